using System.CommandLine;
using System.Globalization;
using VqganClip.Guidance;
using VqganClip.Guidance.BigSleep;
using VqganClip.Guidance.Optimization;

namespace VqganClip.Cli.Commands;

/// <summary>
/// The command-line options that describe a <see cref="RunRecipe"/>, defined once for <c>generate</c> and
/// <c>eval</c>. Every default shown and used is <see cref="RunRecipe.Default"/>'s (whose guidance defaults are
/// <see cref="GuidanceOptions.Default"/>'s), so the command line and notebooks agree.
/// </summary>
public sealed class RecipeOptions
{
    private static RunRecipe D => RunRecipe.Default;
    private static RunRecipe B => RunRecipe.DefaultsFor(Guidance.Generators.BigSleepGenerator.GeneratorName);
    private static TransformerSettings T => TransformerSettings.Default;

    public Option<string?> Generator { get; } = new("--generator") { Description = string.Join(" | ", RunRecipe.GeneratorNames) + " (transformer: sample pictures with a taming transformer, keep the one CLIP rates best). " + DefaultGeneratorHelp };

    /// <summary>How the generator is chosen when --generator is not given (<see cref="RunRecipe.DefaultGenerator"/>).</summary>
    public const string DefaultGeneratorHelp =
        "Default: transformer on the shipped models; biggan when --biggan is given; stylegan when --stylegan is given; vqgan (the loop) when --clip, --vqgan, --resume, --init-image or a loop-only option (--steps, --init, --starts, --trial-steps, --init-weight, --style-image, --feature-weight, --feature-image, --phase-steps, --strokes) is given";
    public Option<string?> Size { get; } = new("--size") { Description = "Picture size WxH (or N for square); default: the CLIP's input size for small CLIPs (64x64 with the shipped models), else 256x256" };
    public Option<int> Steps { get; } = new("--steps") { Description = "Total optimisation steps", DefaultValueFactory = _ => D.Steps };
    public Option<int> CutCount { get; } = new("--cutn") { Description = $"Cutouts per step (biggan: {B.CutCount}, the toolkit's; Big Sleep's {BigSleepDefaults.CutoutCount})", DefaultValueFactory = _ => D.CutCount };
    public Option<double> CutPower { get; } = new("--cut-pow") { Description = "Cutout size power (>1: smaller crops)", DefaultValueFactory = _ => D.CutPower };
    public Option<string> CutMethod { get; } = new("--cut-method") { Description = "augmented (generate.py's affine, perspective, colour jitter, noise) | original (the first notebook's plain crops) | bigsleep (Big Sleep's: sizes around 0.8 of the picture, nearest resize; biggan's default is augmented, chosen on the eval) | styleclip (StyleCLIP's whole picture pooled to CLIP's side, not normalised; stylegan's default)", DefaultValueFactory = _ => D.CutMethod };
    public Option<string?> Augment { get; } = new("--augment") { Description = "With --cut-method augmented: KEY=VALUE,... (flip, affine, degrees, translate, shear, perspective, distortion, color, hue, saturation, noise)" };
    public Option<double> LearningRate { get; } = new("--lr") { Description = $"Learning rate (biggan: {B.LearningRate}, chosen on the eval; Big Sleep's {BigSleepDefaults.LearningRate})", DefaultValueFactory = _ => D.LearningRate };
    public Option<string> PromptLoss { get; } = new("--prompt-loss") { Description = "spherical (the VQGAN+CLIP notebooks' squared spherical distance) | cosine (Big Sleep's -100 cos; biggan's default) | styleclip (StyleCLIP's 1 - logits/100; stylegan's default)", DefaultValueFactory = _ => D.PromptLoss };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = string.Join(" | ", OptimizerFactory.Names), DefaultValueFactory = _ => D.Optimizer };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "constant | cosine:STEPS[:MIN] | warmup:STEPS | styleclip (StyleCLIP's ramp-up and cosine ramp-down over --steps; stylegan's default)", DefaultValueFactory = _ => D.Schedule };
    public Option<string> Init { get; } = new("--init") { Description = "How the vqgan generator's latent starts without --init-image: codes (random codebook entries, the original) | flat (a blank white canvas) | noise", DefaultValueFactory = _ => D.Init };
    public Option<int> Starts { get; } = new("--starts") { Description = "Start this many runs (seeds SEED, SEED+1, ...), keep the one CLIP rates best after --trial-steps", DefaultValueFactory = _ => D.Starts };
    public Option<int> TrialSteps { get; } = new("--trial-steps") { Description = "Steps each start runs before the best is kept (they count towards --steps)", DefaultValueFactory = _ => D.TrialSteps };
    public Option<string?> InitImage { get; } = new("--init-image") { Description = "Start from this picture (vqgan and pixels generators)" };
    public Option<double> InitWeight { get; } = new("--init-weight") { Description = "Keep close to the start (the original's init_weight)", DefaultValueFactory = _ => D.InitWeight };
    public Option<string?> StyleImage { get; } = new("--style-image") { Description = "Keep to this picture's style: ResNet18 Gram matrices (style transfer with CLIP guidance; ML.NET's ResNet18 from NuGet)" };
    public Option<double> StyleWeight { get; } = new("--style-weight") { Description = "Weight of the --style-image term", DefaultValueFactory = _ => D.StyleWeight };
    public Option<double> FeatureWeight { get; } = new("--feature-weight") { Description = "Stay close to what ResNet18 sees of --feature-image (default: of --init-image); 0: off", DefaultValueFactory = _ => D.FeatureWeight };
    public Option<string?> FeatureImage { get; } = new("--feature-image") { Description = "The picture of the --feature-weight term (default: --init-image)" };
    public Option<double> TotalVariation { get; } = new("--tv") { Description = "Total-variation weight (smoothness)", DefaultValueFactory = _ => D.TotalVariation };
    public Option<int> PhaseSteps { get; } = new("--phase-steps") { Description = "With '^' story phases: steps per phase", DefaultValueFactory = _ => D.PhaseSteps };
    public Option<int> Strokes { get; } = new("--strokes") { Description = "Number of strokes (strokes generator)", DefaultValueFactory = _ => D.Strokes };
    public Option<int?> MaxClasses { get; } = new("--max-classes") { Description = "biggan: each latent's class vector keeps its K largest classes (Big Sleep's max_classes; default: all, through a sigmoid)" };
    public Option<string?> Latent { get; } = new("--latent") { Description = "stylegan: edit from this W+ code (StyleCLIP's --latent_path: a torch.save'd tensor [1, n_latent, 512] or a .safetensors with one tensor; default: a seed's latent, truncation 0.7)" };
    public Option<double> L2Lambda { get; } = new("--l2-lambda") { Description = "stylegan: weight of the L2 anchor to the start when editing (StyleCLIP's l2_lambda)", DefaultValueFactory = _ => D.L2Lambda };
    public Option<bool> StyleSpace { get; } = new("--stylespace") { Description = "stylegan: optimise the StyleSpace vectors (all but the ToRGB ones) instead of W+" };
    public Option<bool> Free { get; } = new("--free") { Description = "stylegan: free generation from the mean latent, CLIP loss alone (StyleCLIP's free_generation mode)" };
    public Option<double> EmaDecay { get; } = new("--ema-decay") { Description = "biggan: decay of the moving average of the latents whose picture is shown and saved (0: the live picture)", DefaultValueFactory = _ => D.EmaDecay ?? 0 };

    // The transformer generator's options (TransformerSettings); --steps, --starts and --init do not apply to it.
    public Option<string?> Transformer { get; } = new("--transformer") { Description = $"Transformer generator: a taming Net2NetTransformer checkpoint (default: the shipped data/{ShippedModels.TransformerFileName})" };
    public Option<string?> TransformerConfig { get; } = new("--transformer-config") { Description = "Its *-project.yaml (default: found beside the checkpoint, else read from the weights)" };
    public Option<string?> ClassNames { get; } = new("--class-names") { Description = "A class-conditional transformer's class names, one a line, line 1 for class 0 (default: CHECKPOINT.classes.txt beside it, or ImageNet's 1000)" };
    public Option<int> Samples { get; } = new("--samples") { Description = "Transformer: token grids sampled; the one CLIP rates best is kept", DefaultValueFactory = _ => T.Samples };
    public Option<double> GuidanceScale { get; } = new("--guidance-scale") { Description = "Transformer: classifier-free guidance of a caption model (each token's logits pushed away from the empty caption's by this factor; 1: none)", DefaultValueFactory = _ => T.GuidanceScale };
    public Option<double> Temperature { get; } = new("--temperature") { Description = "Transformer: sampling temperature (lower: safer, less varied)", DefaultValueFactory = _ => T.Temperature };
    public Option<int?> TopK { get; } = new("--top-k") { Description = "Transformer: keep the K most likely tokens at each step (a K as large as the vocabulary keeps all)", DefaultValueFactory = _ => T.TopK };
    public Option<double?> TopP { get; } = new("--top-p") { Description = "Transformer: nucleus sampling, keep the most likely tokens up to this probability, in (0, 1] (default: off)", DefaultValueFactory = _ => T.TopP };
    public Option<bool> Regional { get; } = new("--regional") { Description = "Transformer: a caption of two things in a relation ('a red star above a blue house') is sampled by halves, each under its own thing's caption (false: the whole caption everywhere)", DefaultValueFactory = _ => T.Regional };
    public Option<int> RegionalPicks { get; } = new("--regional-picks") { Description = "Transformer, sampled by halves: the best M samples of each half are joined (M x M joins ranked against the whole prompt)", DefaultValueFactory = _ => T.RegionalPicks };
    public Option<int> RegionalShift { get; } = new("--regional-shift") { Description = "Transformer, sampled by halves: token lines each half's grid moves away from the seam before the join, so the two objects do not touch", DefaultValueFactory = _ => T.RegionalShift };
    public Option<string> RegionalBackdrop { get; } = new("--regional-backdrop") { Description = "Transformer, sampled by halves and drawn in the middle: join only samples whose backdrops agree (mean pixel difference outside the middle half at most this, 0-1) | off (each half's best picks whatever their backdrops)", DefaultValueFactory = _ => T.RegionalBackdrop is { } b ? b.ToString(CultureInfo.InvariantCulture) : "off" };
    public Option<string> RegionalJoin { get; } = new("--regional-join") { Description = "Transformer, sampled by halves: pictures (each half's pick decoded, the two joined at the middle and encoded back to codes) | tokens (the grids joined in token space, --regional-shift lines apart)", DefaultValueFactory = _ => T.RegionalJoin.ToString().ToLowerInvariant() };
    public Option<string> Placement { get; } = new("--placement") { Description = "Transformer, caption model: where the samples get the caption's place: model (as the model's YAML says: drawn_at: middle moves them) | move (asked for the middle, each sample moved to the place) | caption (asked for the place as written)", DefaultValueFactory = _ => T.Placement.ToString().ToLowerInvariant() };
    public Option<double> SmallScale { get; } = new("--small-scale") { Description = "Transformer, caption model: a thing named small ('small', 'little', 'tiny') is drawn at the model's size and shrunk by this about its place, in (0, 1] (1: as drawn)", DefaultValueFactory = _ => T.SmallScale };
    public Option<int> Refine { get; } = new("--refine") { Description = "Transformer: refine the best sample for N steps of the VQGAN+CLIP loop (0: none)", DefaultValueFactory = _ => T.RefineSteps };
    public Option<double> AnchorWeight { get; } = new("--anchor-weight") { Description = "Transformer: weight of the refinement's anchor to the best sample's latent (the loop's init weight)", DefaultValueFactory = _ => T.AnchorWeight };
    public Option<string?> ClassId { get; } = new("--class") { Description = "Class-conditional transformer: the class id (default: chosen by CLIP zero-shot over the class names). biggan: the class every latent starts on, an id, a name or auto (CLIP's zero-shot choice over the class names); none: upstream's start, every class nearly off" + BigGanClassDefault };
    public Option<int> Candidates { get; } = new("--candidates") { Description = "biggan: latents drawn for the --class; the one CLIP rates best starts the run (with --class none: 1)", DefaultValueFactory = _ => B.BigGanCandidates };

    private static string BigGanClassDefault => B.BigGanClass is { } c ? $" (biggan's default: {c})" : " (biggan's default: none)";

    /// <summary>The options in the order <c>--help</c> lists them (<see cref="Generator"/> first; callers may leave it out).</summary>
    public IEnumerable<Option> All(bool includeGenerator = true)
    {
        if (includeGenerator) yield return Generator;
        foreach (var o in new Option[] { Size, Steps, CutCount, CutPower, CutMethod, Augment, LearningRate, PromptLoss, Optimizer, Schedule,
                     Init, Starts, TrialSteps, InitImage, InitWeight, StyleImage, StyleWeight, FeatureWeight, FeatureImage, TotalVariation, PhaseSteps, Strokes, MaxClasses, EmaDecay,
                     Latent, L2Lambda, StyleSpace, Free, Transformer, TransformerConfig, ClassNames, Samples, Temperature, GuidanceScale, TopK, TopP, Regional, RegionalPicks, RegionalJoin, RegionalShift, RegionalBackdrop, SmallScale, Placement, Refine, AnchorWeight, ClassId, Candidates })
            yield return o;
    }

    /// <summary>Adds <see cref="All"/> to <paramref name="command"/>.</summary>
    public void AddTo(Command command, bool includeGenerator = true)
    {
        foreach (var o in All(includeGenerator)) command.Options.Add(o);
    }

    /// <summary>Options that only the loop reads: given one of them, the user means the loop (<see cref="RunRecipe.DefaultGenerator"/>).</summary>
    public IEnumerable<Option> LoopOnly() => [Steps, Init, Starts, TrialSteps, InitImage, InitWeight, StyleImage, FeatureWeight, FeatureImage, PhaseSteps, Strokes];

    /// <summary>
    /// The generator <paramref name="parse"/> names, else the default for it: the transformer pipeline on the shipped
    /// models, the loop when <paramref name="userModels"/> (the caller's --clip, --vqgan or --resume) or a loop-only option was given.
    /// </summary>
    /// <param name="implied">A generator the user's model options name (e.g. biggan for --biggan), chosen when --generator is not given.</param>
    public string ChooseGenerator(ParseResult parse, bool userModels, Option<string?>? generatorOption = null, string? implied = null) =>
        parse.GetValue(generatorOption ?? Generator) is { } named
            ? named
            : implied ?? RunRecipe.DefaultGenerator(shippedModelsOnly: !userModels && !LoopOnly().Any(o => parse.GetResult(o) is { Implicit: false }));

    /// <summary>
    /// The recipe the parsed options describe (prompt and seed are the caller's) for <paramref name="generator"/> (null:
    /// <see cref="ChooseGenerator"/> with <paramref name="userModels"/>). An option not given takes the generator's
    /// default (<see cref="RunRecipe.DefaultsFor"/>: Big Sleep's for biggan).
    /// </summary>
    public RunRecipe Read(ParseResult parse, bool userModels = false, string? generator = null, string? implied = null)
    {
        generator ??= ChooseGenerator(parse, userModels, implied: implied);
        var defaults = RunRecipe.DefaultsFor(generator);
        T Given<T>(Option<T> option, T fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : fallback;
        var values = ReadValues(parse);
        bool bigSleep = generator.Equals(Guidance.Generators.BigSleepGenerator.GeneratorName, StringComparison.OrdinalIgnoreCase);
        var bigGanClass = bigSleep && parse.GetResult(ClassId) is { Implicit: false } ? BigGanClassOf(parse.GetValue(ClassId)) : defaults.BigGanClass;
        return values with
        {
            Generator = generator,
            Transformer = values.Transformer with { ClassId = bigSleep ? null : TransformerClassOf(parse.GetValue(ClassId)) },
            CutCount = Given(CutCount, defaults.CutCount),
            CutMethod = Given(CutMethod, defaults.CutMethod),
            LearningRate = Given(LearningRate, defaults.LearningRate),
            PromptLoss = Given(PromptLoss, defaults.PromptLoss),
            Optimizer = Given(Optimizer, defaults.Optimizer),
            Schedule = Given(Schedule, defaults.Schedule),
            BigGanClass = bigGanClass,
            // upstream's start (--class none) is one draw: candidates are drawn for a class
            BigGanCandidates = Given(Candidates, bigGanClass is null ? 1 : defaults.BigGanCandidates),
        };
    }

    /// <summary>The biggan start's class as written (null for "none": upstream's start).</summary>
    private static string? BigGanClassOf(string? value) =>
        value is null || value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? null : value.Trim();

    /// <summary>The transformer's class id: --class as an integer, null for none or auto (CLIP chooses).</summary>
    private static int? TransformerClassOf(string? value)
    {
        if (value is null || value.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return null;
        if (int.TryParse(value.Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int id)) return id;
        throw new ArgumentException($"--class: a class-conditional transformer takes a class id (an integer) or auto; got '{value}'.");
    }

    /// <summary>Every option's value as parsed (its own default when not given).</summary>
    private RunRecipe ReadValues(ParseResult parse) => D with
    {
        Size = parse.GetValue(Size),
        Steps = parse.GetValue(Steps),
        CutCount = parse.GetValue(CutCount),
        CutPower = parse.GetValue(CutPower),
        CutMethod = parse.GetValue(CutMethod)!,
        Augment = parse.GetValue(Augment),
        LearningRate = parse.GetValue(LearningRate),
        PromptLoss = parse.GetValue(PromptLoss)!,
        MaxClasses = parse.GetValue(MaxClasses),
        EmaDecay = parse.GetValue(EmaDecay),
        StyleGanLatent = parse.GetValue(Latent),
        L2Lambda = parse.GetValue(L2Lambda),
        StyleSpace = parse.GetValue(StyleSpace),
        StyleGanFree = parse.GetValue(Free),
        Optimizer = parse.GetValue(Optimizer)!,
        Schedule = parse.GetValue(Schedule)!,
        Init = parse.GetValue(Init)!,
        Starts = parse.GetValue(Starts),
        TrialSteps = parse.GetValue(TrialSteps),
        InitImage = parse.GetValue(InitImage),
        InitWeight = parse.GetValue(InitWeight),
        StyleImage = parse.GetValue(StyleImage),
        StyleWeight = parse.GetValue(StyleWeight),
        FeatureWeight = parse.GetValue(FeatureWeight),
        FeatureImage = parse.GetValue(FeatureImage),
        TotalVariation = parse.GetValue(TotalVariation),
        PhaseSteps = parse.GetValue(PhaseSteps),
        Strokes = parse.GetValue(Strokes),
        Transformer = T with
        {
            Checkpoint = parse.GetValue(Transformer),
            Config = parse.GetValue(TransformerConfig),
            ClassNamesFile = parse.GetValue(ClassNames),
            Samples = parse.GetValue(Samples),
            Temperature = parse.GetValue(Temperature),
            GuidanceScale = parse.GetValue(GuidanceScale),
            TopK = parse.GetValue(TopK),
            TopP = parse.GetValue(TopP),
            Regional = parse.GetValue(Regional),
            RegionalPicks = parse.GetValue(RegionalPicks),
            RegionalShift = parse.GetValue(RegionalShift),
            RegionalJoin = ParseRegionalJoin(parse.GetValue(RegionalJoin)!),
            RegionalBackdrop = ParseRegionalBackdrop(parse.GetValue(RegionalBackdrop)!),
            SmallScale = parse.GetValue(SmallScale),
            Placement = ParsePlacement(parse.GetValue(Placement)!),
            RefineSteps = parse.GetValue(Refine),
            AnchorWeight = parse.GetValue(AnchorWeight),
        },
    };

    /// <summary>--regional-backdrop's value: a number in [0, 1], or off (null).</summary>
    /// <exception cref="ArgumentException">Anything else, named.</exception>
    internal static double? ParseRegionalBackdrop(string value)
    {
        var text = value.Trim();
        if (text.Equals("off", StringComparison.OrdinalIgnoreCase)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var tolerance) && tolerance is >= 0 and <= 1) return tolerance;
        throw new ArgumentException($"--regional-backdrop must be a mean pixel difference between 0 and 1, or off; got '{value}'.");
    }

    /// <summary>--regional-join's value: pictures or tokens, any case.</summary>
    /// <exception cref="ArgumentException">Any other word, named.</exception>
    internal static RegionalJoin ParseRegionalJoin(string value) => value.Trim().ToLowerInvariant() switch
    {
        "pictures" => Guidance.RegionalJoin.Pictures,
        "tokens" => Guidance.RegionalJoin.Tokens,
        _ => throw new ArgumentException($"--regional-join must be pictures or tokens; got '{value}'."),
    };

    /// <summary>--placement's value: model, move or caption, any case.</summary>
    /// <exception cref="ArgumentException">Any other word, named.</exception>
    internal static SamplePlacement ParsePlacement(string value) => value.Trim().ToLowerInvariant() switch
    {
        "model" => SamplePlacement.Model,
        "move" => SamplePlacement.Move,
        "caption" => SamplePlacement.Caption,
        _ => throw new ArgumentException($"--placement must be model, move or caption; got '{value}'."),
    };
}
