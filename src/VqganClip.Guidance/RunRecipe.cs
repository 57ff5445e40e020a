using System.Globalization;
using VqganClip.Guidance.BigSleep;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Optimization;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.BigGan;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using VqganClip.Models.Runtime;
using VqganClip.Models.StyleGan2;
using VqganClip.Guidance.StyleClip;
using VqganClip.Models.Vqgan;

namespace VqganClip.Guidance;

/// <summary>
/// A guided run as a person states it: the prompt, the generator by name, the size, the number of steps and the
/// settings of <see cref="GuidanceOptions"/>, in the words the command line and the notebooks use. It turns those
/// words into a validated <see cref="GuidedRun"/> on models the caller loaded (<see cref="CreateRun"/>). The
/// command line's <c>generate</c>, <c>eval</c> and notebooks build their runs through it, so they share one set of
/// defaults: every guidance default is read from <see cref="GuidanceOptions.Default"/>, every transformer default from
/// <see cref="TransformerSettings.Default"/>; the few that only a recipe has (steps, generator, start, strokes) are
/// defined here. The transformer generator is not a loop but <see cref="TransformerPipeline"/> (<see cref="RunTransformer"/>).
/// </summary>
public sealed record RunRecipe
{
    /// <summary>The defaults, the same object for every caller.</summary>
    public static RunRecipe Default { get; } = new();

    private static GuidanceOptions G => GuidanceOptions.Default;

    /// <summary>What to draw: <c>text[:weight[:stop]]</c>, several separated by '|', story phases by '^'.</summary>
    public string? Prompt { get; init; }
    /// <summary>One of <see cref="GeneratorNames"/>; a recipe built in code on models the caller loaded runs the loop unless it says otherwise.</summary>
    public string Generator { get; init; } = LoopGenerator;

    /// <summary>The VQGAN+CLIP loop's generator: the recipe's own default, and the command line's whenever the user brings models or loop settings.</summary>
    public const string LoopGenerator = "vqgan";

    /// <summary>
    /// The generator <c>generate</c> and <c>eval</c> run when none is named. On the shipped models alone (no CLIP or
    /// VQGAN of the user's, no start picture, no setting only the loop has) it is the transformer pipeline, when the
    /// shipped transformer is there: on the 48 eval prompts it satisfies more of them than the loop, in a tenth of the
    /// time (7/48 in 2.2 s a picture against 6/48 in 25 s; data/README.md). Anything else runs the loop.
    /// </summary>
    public static string DefaultGenerator(bool shippedModelsOnly) =>
        shippedModelsOnly && ShippedModels.FindTransformer() is not null ? TransformerPipeline.GeneratorName : LoopGenerator;

    /// <summary>The generators a recipe may name: the loop's (<see cref="GeneratorFactory.Names"/>) and the transformer pipeline's.</summary>
    public static IReadOnlyList<string> GeneratorNames { get; } = [.. GeneratorFactory.Names, TransformerPipeline.GeneratorName];

    /// <summary>The transformer pipeline's settings (with <see cref="Generator"/> "transformer"): the model, samples, filters, refinement.</summary>
    public TransformerSettings Transformer { get; init; } = TransformerSettings.Default;

    /// <summary>True when <see cref="Generator"/> names the transformer pipeline.</summary>
    public bool IsTransformer => string.Equals(Generator?.Trim(), TransformerPipeline.GeneratorName, StringComparison.OrdinalIgnoreCase);
    /// <summary>WxH or N; null: <see cref="DefaultSize"/> of the CLIP.</summary>
    public string? Size { get; init; }
    /// <summary>Total optimisation steps.</summary>
    public int Steps { get; init; } = 300;

    public int CutCount { get; init; } = G.CutCount;
    public double CutPower { get; init; } = G.CutPower;
    /// <summary>original | augmented (<see cref="Guidance.CutMethod"/>).</summary>
    public string CutMethod { get; init; } = G.CutMethod.ToString().ToLowerInvariant();
    /// <summary>KEY=VALUE,... changes to the default augmentations (see <see cref="AugmentOptions.With"/>).</summary>
    public string? Augment { get; init; }
    public double LearningRate { get; init; } = G.LearningRate;
    public string Optimizer { get; init; } = G.Optimizer;
    public string Schedule { get; init; } = G.Schedule;
    /// <summary>The run's seed; null: a random one, chosen when the run is made (and recorded in it).</summary>
    public long? Seed { get; init; }
    public double InitWeight { get; init; } = G.InitWeight;
    public double TotalVariation { get; init; } = G.TotalVariationWeight;
    public int PhaseSteps { get; init; } = G.PhaseSteps;

    /// <summary>Runs started (seeds Seed, Seed+1, ...); the one with the lowest loss after <see cref="TrialSteps"/> goes on (<see cref="BestOfStarts"/>).</summary>
    public int Starts { get; init; } = 1;
    public int TrialSteps { get; init; } = 40;
    /// <summary>The vqgan generator's start without an init image: codes | flat | noise (<see cref="LatentInit"/>).</summary>
    public string Init { get; init; } = "codes";
    /// <summary>A picture the vqgan or pixels generator starts from.</summary>
    public string? InitImage { get; init; }
    /// <summary>A picture whose style the run keeps to (ResNet18 Gram matrices; <see cref="GuidanceOptions.StyleImage"/>).</summary>
    public string? StyleImage { get; init; }
    public double StyleWeight { get; init; } = G.StyleWeight;
    /// <summary>Weight of the ResNet18 feature distance to <see cref="FeatureImage"/> (0: off; <see cref="GuidanceOptions.FeatureImage"/>).</summary>
    public double FeatureWeight { get; init; }
    /// <summary>The picture of the feature term; null: <see cref="InitImage"/>.</summary>
    public string? FeatureImage { get; init; }
    /// <summary>Image prompts <c>FILE[:WEIGHT[:STOP]]</c>.</summary>
    public IReadOnlyList<string> ImagePrompts { get; init; } = [];
    /// <summary>Noise prompts <c>SEED[:WEIGHT]</c>.</summary>
    public IReadOnlyList<string> NoisePrompts { get; init; } = [];
    /// <summary>Audio prompts <c>FILE.wav[:WEIGHT[:STOP]]</c>, encoded by an AudioCLIP audio head (<see cref="AudioPrompt"/>).</summary>
    public IReadOnlyList<string> AudioPrompts { get; init; } = [];
    /// <summary>Strokes of the strokes generator.</summary>
    public int Strokes { get; init; } = 32;
    /// <summary>How a prompt scores the cutouts: spherical (the VQGAN+CLIP notebooks) | cosine (Big Sleep's −100·cos) (<see cref="PromptLossKind"/>).</summary>
    public string PromptLoss { get; init; } = G.PromptLoss.ToString().ToLowerInvariant();
    /// <summary>The biggan generator's <c>max_classes</c>: each latent row's class vector keeps its K largest classes (null: all, through a sigmoid).</summary>
    public int? MaxClasses { get; init; }
    /// <summary>The biggan generator's moving-average decay; the average's picture is shown and saved (null: none).</summary>
    public double? EmaDecay { get; init; } = BigSleepDefaults.CliEmaDecay;
    /// <summary>
    /// The biggan generator's start (<see cref="BigSleepStart"/>): null for upstream's (every class nearly off); "auto" for
    /// the class CLIP chooses zero-shot over the model's class names; or a class id or name.
    /// </summary>
    public string? BigGanClass { get; init; }
    /// <summary>The biggan generator's start: latents drawn for the chosen class, the one CLIP rates best kept (1: one draw).</summary>
    public int BigGanCandidates { get; init; } = 1;

    /// <summary>stylegan: start an edit from this W+ code file (StyleCLIP's <c>--latent_path</c>; null: from the seed's latent, or the mean with <see cref="StyleGanFree"/>).</summary>
    public string? StyleGanLatent { get; init; }
    /// <summary>stylegan: free generation from the mean latent, CLIP loss alone (StyleCLIP's <c>--mode free_generation</c>).</summary>
    public bool StyleGanFree { get; init; }
    /// <summary>stylegan: weight of the L2 anchor to the start in the edit modes (StyleCLIP's <c>--l2_lambda</c>).</summary>
    public double L2Lambda { get; init; } = 0.008;
    /// <summary>stylegan: optimise the StyleSpace vectors (all but the ToRGB ones) instead of W+ (<c>--work_in_stylespace</c>).</summary>
    public bool StyleSpace { get; init; }
    /// <summary>stylegan: truncation of a seed's start (StyleCLIP's <c>--truncation</c>).</summary>
    public double StyleGanTruncation { get; init; } = 0.7;

    /// <summary>
    /// The defaults for <paramref name="generator"/>: <see cref="Default"/>, except for StyleCLIP's generator
    /// ("stylegan"), whose are StyleCLIP's, and Big Sleep's ("biggan"), whose are <see cref="BigSleepChosen"/>: Big
    /// Sleep's Adam (at 0.01, not 0.07) and −100·cos prompt loss, started on the class CLIP reads in the prompt from the
    /// best of 128 latents, with the toolkit's 32 augmented cutouts (<see cref="BigSleepOriginal"/> is upstream's whole
    /// recipe).
    /// </summary>
    public static RunRecipe DefaultsFor(string? generator) =>
        string.Equals(generator?.Trim(), BigSleepGenerator.GeneratorName, StringComparison.OrdinalIgnoreCase) ? BigSleepChosen
        : string.Equals(generator?.Trim(), StyleGanGenerator.GeneratorName, StringComparison.OrdinalIgnoreCase) ? StyleClipRecipe
        : Default;

    /// <summary>
    /// StyleCLIP's run_optimization.py defaults for the stylegan generator: 300 steps, Adam 0.1 with its schedule
    /// ("styleclip": lr 0 at step 0, ramp-up over 5 %, cosine ramp-down over the last 25 %), the whole picture pooled
    /// to CLIP's side and not normalised ("styleclip" cutouts, one view) and its 1 − logits/100 prompt loss.
    /// </summary>
    private static readonly RunRecipe StyleClipRecipe = new()
    {
        Generator = StyleGanGenerator.GeneratorName,
        Steps = 300,
        LearningRate = 0.1,
        Optimizer = "Adam",
        Schedule = "styleclip",
        CutMethod = "styleclip",
        CutCount = 1,
        PromptLoss = "styleclip",
    };

    /// <summary>
    /// Big Sleep as upstream runs it (<see cref="BigSleepDefaults"/>): Adam at 0.07, its 128 cutouts (sizes around 0.8
    /// of the picture, nearest resize), its −100·cos prompt loss, and its start with every class nearly off. What
    /// notebook 09 teaches and <c>bench biggan</c> times; <c>--class none --cut-method bigsleep --cutn 128 --lr 0.07</c> on the
    /// command line.
    /// </summary>
    public static readonly RunRecipe BigSleepOriginal = new()
    {
        Generator = BigSleepGenerator.GeneratorName,
        LearningRate = BigSleepDefaults.LearningRate,
        CutMethod = "bigsleep",
        CutCount = BigSleepDefaults.CutoutCount,
        PromptLoss = "cosine",
    };

    /// <summary>
    /// The biggan generator's defaults, chosen on the eval (<c>vqgan-clip eval --generator biggan --set single</c>):
    /// <see cref="BigSleepOriginal"/> started on the class CLIP reads in the prompt (zero-shot over the model's class
    /// names) from the best of 128 latents (<see cref="BigSleepStart"/>), with 32 augmented cutouts and Adam at 0.01.
    /// <list type="bullet">
    /// <item>The start: on session 28's clipart BigGAN, CLIP's class from the best of 32 latents satisfied 11 of 32
    /// prompts and upstream's start 1 (from nearly no class the picture stays the class average, a pale object on
    /// white).</item>
    /// <item>The learning rate and the 128 latents: on the 32-px file shipped since session 44, 0.07 moved the latents
    /// off the pictures G draws well (a black cloud in the sky, right at the start, ended a green blot) and 0.01 kept
    /// them: from the best of 128 latents, 13 of 32 at 0.07 and 20 at 0.01 (20 with seed 1 too; the start alone: 17).
    /// Session 30's 64-px file satisfies 11 with these and 13 with the 32 latents at 0.07 it was tuned with.</item>
    /// </list>
    /// </summary>
    public static readonly RunRecipe BigSleepChosen = BigSleepOriginal with
    {
        LearningRate = 0.01,
        CutMethod = "augmented",
        CutCount = 32,
        BigGanClass = "auto",
        BigGanCandidates = 128,
    };

    /// <summary>
    /// The picture size when none is given: a small CLIP's own input size (the shipped clipart CLIP sees 64x64, so
    /// its pictures are 64x64 and every cutout is most of the picture), else 256x256 as the classic notebooks.
    /// </summary>
    public static (int Width, int Height) DefaultSize(ClipModel clip) =>
        clip.ImageSize <= 128 ? (clip.ImageSize, clip.ImageSize) : (256, 256);

    /// <summary>Parses "WxH" or "N".</summary>
    public static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('x');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
        {
            int w = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return (w, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : w);
        }
        throw new ArgumentException($"The size '{text}' is not WxH with positive whole numbers (e.g. 256x256, or 256 for a square).");
    }

    /// <summary>The start word as a <see cref="LatentInit"/>.</summary>
    public static LatentInit ParseInit(string text) => text.Trim().ToLowerInvariant() switch
    {
        "codes" => LatentInit.RandomCodes,
        "flat" => LatentInit.Flat,
        "noise" => LatentInit.Noise,
        _ => throw new ArgumentException($"The start '{text}' is not one of: codes, flat, noise."),
    };

    /// <summary>The cut method word as a <see cref="Guidance.CutMethod"/>.</summary>
    public static CutMethod ParseCutMethod(string text) => text.Trim().ToLowerInvariant() switch
    {
        "original" => Guidance.CutMethod.Original,
        "augmented" => Guidance.CutMethod.Augmented,
        "bigsleep" => Guidance.CutMethod.BigSleep,
        "styleclip" => Guidance.CutMethod.StyleClip,
        _ => throw new ArgumentException($"The cut method '{text}' is not one of: original, augmented, bigsleep, styleclip."),
    };

    /// <summary>The prompt loss word as a <see cref="PromptLossKind"/>.</summary>
    public static PromptLossKind ParsePromptLoss(string text) => text.Trim().ToLowerInvariant() switch
    {
        "spherical" => PromptLossKind.Spherical,
        "cosine" => PromptLossKind.Cosine,
        "styleclip" => PromptLossKind.StyleClip,
        _ => throw new ArgumentException($"The prompt loss '{text}' is not one of: spherical, cosine, styleclip."),
    };

    /// <summary>
    /// The checks that need no model: the prompt's syntax, the size, the numbers, the names. Throws an
    /// <see cref="ArgumentException"/> (or a <see cref="PromptParseException"/>) naming the setting.
    /// </summary>
    public void Validate()
    {
        if (!string.IsNullOrWhiteSpace(Prompt)) PromptParser.Parse(Prompt);
        if (Size is not null) ParseSize(Size);
        if (Steps < 0) throw new ArgumentException($"The number of steps must be 0 or more; got {Steps}.");
        if (Starts < 1) throw new ArgumentException($"The number of starts must be at least 1; got {Starts}.");
        if (Starts > 1 && (TrialSteps < 1 || TrialSteps > Steps))
            throw new ArgumentException($"The trial steps of each start must be between 1 and the number of steps ({Steps}); got {TrialSteps}.");
        if (!GeneratorNames.Contains(Generator.ToLowerInvariant()))
            throw new ArgumentException($"The generator '{Generator}' is not one of: {string.Join(", ", GeneratorNames)}.");
        ParseInit(Init);   // a typo is an error with every generator, not only vqgan
        if (MaxClasses is { } k && k < 1) throw new ArgumentException($"The number of classes kept (max classes) must be at least 1; got {k}.");
        if (EmaDecay is { } d && !(d >= 0 && d < 1)) throw new ArgumentException($"The EMA decay must be in [0, 1); got {d.ToString(CultureInfo.InvariantCulture)}.");
        if (BigGanCandidates < 1 || BigGanCandidates > MaxBigGanCandidates)
            throw new ArgumentException($"The biggan start's candidates must be between 1 and {MaxBigGanCandidates}; got {BigGanCandidates}.");
        if (BigGanCandidates > 1 && BigGanClass is null)
            throw new ArgumentException("Candidate latents are drawn for a class: give the class too (an id, a name, or auto for CLIP's choice).");
        if (FeatureWeight > 0 && FeatureImage is null && InitImage is null)
            throw new ArgumentException("The feature term (FeatureWeight) needs a picture to stay close to: give FeatureImage, or a start picture (InitImage).");
        if (!(L2Lambda >= 0)) throw new ArgumentException($"The L2 weight (l2 lambda) must be 0 or more; got {L2Lambda.ToString(CultureInfo.InvariantCulture)}.");
        if (!(StyleGanTruncation > 0 && StyleGanTruncation <= 1)) throw new ArgumentException($"The stylegan truncation must be in (0, 1]; got {StyleGanTruncation.ToString(CultureInfo.InvariantCulture)}.");
        ToOptions(seed: 0).Validate();
        if (IsTransformer) ValidateTransformer();
    }

    /// <summary>The transformer's settings, and the loop settings that have no meaning for it.</summary>
    private void ValidateTransformer()
    {
        Transformer.Validate();
        if (InitImage is not null)
            throw new ArgumentException("A start picture (InitImage) does not apply to the transformer generator: it samples its pictures; refine one with the vqgan generator instead.");
        if (Starts > 1)
            throw new ArgumentException($"Starts ({Starts}) does not apply to the transformer generator: it samples Samples ({Transformer.Samples}) pictures and keeps the best.");
        if (StyleImage is not null || FeatureWeight > 0)
            throw new ArgumentException("The perceptual terms (StyleImage, FeatureWeight) do not apply to the transformer generator: it samples its pictures; give them to a loop generator (vqgan, pixels, ...).");
        if (InitWeight != GuidanceOptions.Default.InitWeight)
            throw new ArgumentException($"InitWeight ({InitWeight.ToString(CultureInfo.InvariantCulture)}) does not apply to the transformer generator: its refinement is anchored to the best sample by AnchorWeight ({Transformer.AnchorWeight.ToString(CultureInfo.InvariantCulture)}).");
    }

    /// <summary>
    /// The transformer pipeline's request these settings describe: the prompt and the extras parsed, the size (null:
    /// the model's own), the seed (null: a random one, chosen now and recorded), the transformer settings and the loop
    /// options (ranking cutouts, refinement). Validates first.
    /// </summary>
    public TransformerRequest ToTransformerRequest()
    {
        if (AudioPrompts.Count > 0)
            throw new ArgumentException("Audio prompts guide the loop generators (vqgan, pixels, ...), not the transformer: pass --generator vqgan.");
        if (string.IsNullOrWhiteSpace(Prompt) && ImagePrompts.Count == 0 && NoisePrompts.Count == 0)
            throw new ArgumentException("Say what to draw: a text prompt such as \"a red star above a blue house\" (or an image or noise prompt).");
        Validate();
        var extras = ImagePrompts.Select(PromptParser.ParseImage).Concat(NoisePrompts.Select(PromptParser.ParseNoise)).ToList();
        foreach (var img in extras.Where(p => p.Source == PromptSource.Image))
            if (!File.Exists(img.Text)) throw new FileNotFoundException($"The image prompt '{img.Text}' does not exist.", img.Text);
        var script = string.IsNullOrWhiteSpace(Prompt)
            ? new PromptScript("", new[] { (IReadOnlyList<PromptSpec>)extras.ToList() })
            : PromptParser.Parse(Prompt);
        bool extrasInScript = string.IsNullOrWhiteSpace(Prompt);
        int? width = null, height = null;
        if (Size is not null) (width, height) = ParseSize(Size);
        long seed = Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        return new TransformerRequest
        {
            Prompts = script,
            ExtraPrompts = extrasInScript ? [] : extras,
            Width = width,
            Height = height,
            Seed = seed,
            Settings = Transformer,
            Guidance = ToOptions(seed),
        };
    }

    /// <summary>Runs the transformer pipeline (on models the caller loaded, in <paramref name="pipeline"/>) with these settings.</summary>
    public TransformerResult RunTransformer(TransformerPipeline pipeline, Action<TransformerProgress>? onProgress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        if (!IsTransformer)
            throw new ArgumentException($"The generator is '{Generator}', not {TransformerPipeline.GeneratorName}: make its run with CreateRun.");
        return pipeline.Run(ToTransformerRequest(), onProgress, ct);
    }

    /// <summary>The <see cref="GuidanceOptions"/> these settings describe, with <paramref name="seed"/>.</summary>
    public GuidanceOptions ToOptions(long seed) => G with
    {
        CutCount = CutCount,
        CutPower = CutPower,
        CutMethod = ParseCutMethod(CutMethod),
        PromptLoss = ParsePromptLoss(PromptLoss),
        Augment = new AugmentOptions().With(Augment),
        Optimizer = OptimizerFactory.Canonical(Optimizer),
        LearningRate = LearningRate,
        // "styleclip" alone: StyleCLIP's get_lr over this recipe's steps
        Schedule = Schedule.Trim().Equals("styleclip", StringComparison.OrdinalIgnoreCase) ? $"styleclip:{Math.Max(Steps, 1)}" : Schedule,
        Seed = seed,
        TotalVariationWeight = TotalVariation,
        InitWeight = InitWeight,
        PhaseSteps = PhaseSteps,
        // full paths: a saved run rebuilds its perceptual terms from them, from whatever folder it is resumed in
        StyleImage = StyleImage is null ? null : Path.GetFullPath(StyleImage),
        StyleWeight = StyleWeight,
        FeatureImage = FeatureWeight > 0 && (FeatureImage ?? InitImage) is { } feature ? Path.GetFullPath(feature) : null,
        FeatureWeight = FeatureWeight > 0 ? FeatureWeight : G.FeatureWeight,
    };

    /// <summary>
    /// A new run on models the caller loaded and owns (<paramref name="vqgan"/> only for the vqgan generator,
    /// <paramref name="biggan"/> only for the biggan generator), with no step done. Validates everything first.
    /// </summary>
    /// <param name="audio">The AudioCLIP audio head for <see cref="AudioPrompts"/> (not owned; needed only when there are some).</param>
    /// <param name="report">Hears one line about a biggan start chosen by CLIP (<see cref="BigGanClass"/>).</param>
    public GuidedRun CreateRun(ClipModel clip, VqganModel? vqgan, BigGanModel? biggan = null, StyleGan2Model? stylegan = null, AudioClipModel? audio = null,
        Action<string>? report = null)
    {
        ArgumentNullException.ThrowIfNull(clip);
        if (string.IsNullOrWhiteSpace(Prompt) && ImagePrompts.Count == 0 && NoisePrompts.Count == 0 && AudioPrompts.Count == 0)
            throw new ArgumentException("Say what to draw: a text prompt such as \"a red star above a blue house\" (or an image, noise or audio prompt).");
        Validate();
        var script = string.IsNullOrWhiteSpace(Prompt) ? null : PromptParser.Parse(Prompt);
        var extras = ImagePrompts.Select(PromptParser.ParseImage).Concat(NoisePrompts.Select(PromptParser.ParseNoise))
            .Concat(AudioPrompts.Select(PromptParser.ParseAudio)).ToList();
        foreach (var img in extras.Where(p => p.Source == PromptSource.Image))
            if (!File.Exists(img.Text)) throw new FileNotFoundException($"The image prompt '{img.Text}' does not exist.", img.Text);
        foreach (var wav in extras.Where(p => p.Source == PromptSource.Audio))
            if (!File.Exists(wav.Text)) throw new FileNotFoundException($"The audio prompt '{wav.Text}' does not exist.", wav.Text);
        if (AudioPrompts.Count > 0)
        {
            if (audio is null) throw new ArgumentException("Audio prompts need an AudioCLIP model (generate --audioclip FILE).");
            AudioZeroShot.CheckSpace(audio, clip);
        }
        if (InitImage is not null && !File.Exists(InitImage))
            throw new FileNotFoundException($"The start picture '{InitImage}' does not exist.", InitImage);
        if (StyleImage is not null && !File.Exists(StyleImage))
            throw new FileNotFoundException($"The style picture '{StyleImage}' does not exist.", StyleImage);
        if (FeatureWeight > 0 && FeatureImage is not null && !File.Exists(FeatureImage))
            throw new FileNotFoundException($"The feature picture '{FeatureImage}' does not exist.", FeatureImage);
        var kind = Generator.ToLowerInvariant();
        if (kind == BigSleepGenerator.GeneratorName && biggan is null) throw new ArgumentException("The biggan generator needs a BigGAN model.");
        if (kind == StyleGanGenerator.GeneratorName && stylegan is null) throw new ArgumentException("The stylegan generator needs a StyleGAN2 model.");
        if (StyleGanLatent is not null && !File.Exists(StyleGanLatent))
            throw new FileNotFoundException($"The latent file '{StyleGanLatent}' does not exist.", StyleGanLatent);
        var (width, height) = kind == BigSleepGenerator.GeneratorName ? BigGanSize(biggan!)
            : kind == StyleGanGenerator.GeneratorName ? StyleGanSize(stylegan!)
            : Size is null ? DefaultSize(clip) : ParseSize(Size);
        var options = ToOptions(Seed ?? Random.Shared.NextInt64(0, int.MaxValue));

        if (IsTransformer)
            throw new ArgumentException("The transformer generator is not a guided run: make a TransformerPipeline and call RunTransformer.");
        if (kind == "vqgan" && vqgan is null) throw new ArgumentException("The vqgan generator needs a VQGAN model.");
        // before the generator allocates anything: a picture too large for memory would end the process natively
        if (clip.Device.type == TorchSharp.DeviceType.CPU && AvailableMemory.Bytes() is long available)
            StepMemory.EnsureFits(kind, width, height, vqgan, Strokes, available);
        var generator = CreateGenerator(kind, width, height, vqgan, biggan, stylegan);
        // image/noise-only runs get a script of the extras alone
        script ??= new PromptScript("", new[] { (IReadOnlyList<PromptSpec>)extras.ToList() });
        var run = new GuidedRun(generator, clip, script, options, script.Phases[0].SequenceEqual(extras) ? null : extras, audio: audio);
        if (kind != BigSleepGenerator.GeneratorName || BigGanClass is null) return run;
        try
        {
            var start = BigSleepStart.Apply(run, BigGanClass, BigGanCandidates, biggan!.ClassNames);
            report?.Invoke($"Start: {start.Describe()}.");
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>The most candidate latents a biggan start draws.</summary>
    public const int MaxBigGanCandidates = 1024;

    /// <summary>
    /// <see cref="CreateRun"/>, or with <see cref="Starts"/> &gt; 1 the best of that many runs after their trial steps
    /// (<see cref="BestOfStarts"/>; seeds Seed, Seed+1, ...). The run returned may have steps done.
    /// <paramref name="report"/> hears one line about the starts.
    /// </summary>
    public GuidedRun CreateBestRun(ClipModel clip, VqganModel? vqgan, Action<string>? report = null, BigGanModel? biggan = null, StyleGan2Model? stylegan = null, AudioClipModel? audio = null)
    {
        Validate();
        if (Starts == 1) return CreateRun(clip, vqgan, biggan, stylegan, audio, report);
        long seed = Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        var (best, candidates) = BestOfStarts.Choose(k => (this with { Seed = seed + k }).CreateRun(clip, vqgan, biggan, stylegan, audio, report), Starts, TrialSteps);
        report?.Invoke(FormattableString.Invariant(
            $"{Starts} starts after {TrialSteps} steps: {string.Join(", ", candidates.Select(c => FormattableString.Invariant($"seed {c.Seed} {c.Loss:F3}")))}; kept seed {best.Options.Seed}."));
        return best;
    }

    /// <summary>A BigGAN draws at the size it was trained for: a different <see cref="Size"/> is an error that says so.</summary>
    private (int Width, int Height) BigGanSize(BigGanModel biggan)
    {
        if (Size is not null && ParseSize(Size) is var (w, h) && (w != biggan.ImageSize || h != biggan.ImageSize))
            throw new ArgumentException($"The biggan generator draws at its model's size, {biggan.ImageSize}x{biggan.ImageSize}; the size {Size} cannot be drawn (leave the size out, or choose another generator).");
        return (biggan.ImageSize, biggan.ImageSize);
    }

    /// <summary>A StyleGAN2 draws at its own size: a different <see cref="Size"/> is an error that says so.</summary>
    private (int Width, int Height) StyleGanSize(StyleGan2Model stylegan)
    {
        if (Size is not null && ParseSize(Size) is var (w, h) && (w != stylegan.ImageSize || h != stylegan.ImageSize))
            throw new ArgumentException($"The stylegan generator draws at its model's size, {stylegan.ImageSize}x{stylegan.ImageSize}; the size {Size} cannot be drawn (leave the size out, or choose another generator).");
        return (stylegan.ImageSize, stylegan.ImageSize);
    }

    /// <summary>The stylegan generator these settings describe (a latent file read now).</summary>
    private StyleGanGenerator CreateStyleGan(StyleGan2Model stylegan)
    {
        if (StyleGanLatent is null)
            return new StyleGanGenerator(stylegan, StyleGanFree ? StyleGanStart.Mean : StyleGanStart.Seed, null, L2Lambda, StyleSpace, StyleGanTruncation);
        if (StyleGanFree) throw new ArgumentException("Free generation starts from the mean latent: a latent file (--latent) starts an edit; give one or the other.");
        using var latent = StyleGanLatentFile.Load(StyleGanLatent, stylegan);
        return new StyleGanGenerator(stylegan, StyleGanStart.Latent, latent, L2Lambda, StyleSpace, StyleGanTruncation);
    }

    private IImageGenerator CreateGenerator(string kind, int width, int height, VqganModel? vqgan, BigGanModel? biggan, StyleGan2Model? stylegan = null)
    {
        TorchSharp.torch.Tensor? init = InitImage is null ? null : ImageIO.Load(InitImage);
        try
        {
            return kind switch
            {
                "vqgan" => new VqganLatentGenerator(vqgan!, width, height, init is null ? ParseInit(Init) : LatentInit.Image, init),
                "pixels" => new PixelGenerator(width, height, initImage: init),
                "fourier" when init is null => new FourierGenerator(width, height),
                "strokes" when init is null => new StrokeGenerator(width, height, Strokes),
                BigSleepGenerator.GeneratorName when init is null => new BigSleepGenerator(biggan!, MaxClasses, EmaDecay),
                StyleGanGenerator.GeneratorName when init is null => CreateStyleGan(stylegan!),
                _ => throw new ArgumentException($"A start picture works with the vqgan and pixels generators, not {kind}."),
            };
        }
        finally
        {
            init?.Dispose();
        }
    }
}
