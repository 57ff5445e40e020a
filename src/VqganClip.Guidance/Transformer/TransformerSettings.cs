using System.Globalization;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Guidance;

/// <summary>How sampling by halves joins its two halves (<see cref="TransformerSettings.RegionalJoin"/>).</summary>
public enum RegionalJoin
{
    /// <summary>Decoded (a thing named small shrunk about its place), joined as pictures and encoded back to codes.</summary>
    Pictures,
    /// <summary>Joined in token space, each grid moved <see cref="TransformerSettings.RegionalShift"/> lines from the seam.</summary>
    Tokens,
}

/// <summary>Where a caption model's samples get the caption's place (<see cref="TransformerSettings.Placement"/>).</summary>
public enum SamplePlacement
{
    /// <summary>As the model's YAML says (<see cref="CaptionPlacement"/>): moved for a model drawn in the middle, as captioned otherwise.</summary>
    Model,
    /// <summary>The GPT is asked for the middle ("in the middle" for the caption's place phrase) and each decoded sample is moved to the caption's place.</summary>
    Move,
    /// <summary>The GPT is asked for the caption as written and draws the place itself.</summary>
    Caption,
}

/// <summary>
/// The settings of the transformer pipeline (<see cref="TransformerPipeline"/>) and the one home of their defaults
/// (<see cref="Default"/>), beside <see cref="GuidanceOptions"/>: the command line's <c>--samples</c>,
/// <c>--temperature</c>, <c>--top-k</c>, <c>--top-p</c>, <c>--refine</c>, <c>--anchor-weight</c>, <c>--class</c> and
/// the model files read their defaults from it, through <see cref="RunRecipe.Transformer"/>. The cutouts that rank the
/// samples and the refinement's loop settings are the run's <see cref="GuidanceOptions"/>.
/// </summary>
public sealed record TransformerSettings
{
    /// <summary>The defaults, the same object for every caller.</summary>
    public static TransformerSettings Default { get; } = new();

    /// <summary>The most samples one picture may draw (each is a full token grid, a decode and a CLIP ranking).</summary>
    public const int MaxSamples = 1024;

    /// <summary>The transformer checkpoint (null: the shipped <see cref="ShippedModels.TransformerFileName"/>).</summary>
    public string? Checkpoint { get; init; }

    /// <summary>Its <c>*-project.yaml</c> (null: found beside the checkpoint, or inferred from the weights).</summary>
    public string? Config { get; init; }

    /// <summary>
    /// A class-conditional model's class names, one a line (null: <c>&lt;checkpoint&gt;.classes.txt</c> beside it, or
    /// ImageNet's 1000 names for a 1000-class model; see <see cref="ClassNames.For"/>).
    /// </summary>
    public string? ClassNamesFile { get; init; }

    /// <summary>Token grids sampled (K); the one CLIP rates best is kept.</summary>
    public int Samples { get; init; } = 16;

    /// <summary>
    /// Logits are divided by it before filtering (1: the model's own distribution, as taming's notebooks sample; lower:
    /// safer, less varied). 0.5, measured on the shipped models' eval (data/README.md): the shipped GPT knows each
    /// drawing almost token for token, and at 1 one token in a few hundred still goes astray and spoils an outline; seed
    /// 0 satisfies 42 of 48 at 0.5, 41 at 0.3 and 37 at 1.
    /// </summary>
    public double Temperature { get; init; } = 0.5;

    /// <summary>Keep only the k most likely tokens at each step (upstream's <c>log_images</c> default, 100); null keeps all.</summary>
    public int? TopK { get; init; } = 100;

    /// <summary>Nucleus sampling: keep the most likely tokens whose probability reaches this (after top-k); null or 1 keeps all.</summary>
    public double? TopP { get; init; }

    /// <summary>
    /// Classifier-free guidance of a caption-conditioned GPT (<see cref="SamplingOptions.GuidanceScale"/>): each step's
    /// logits are pushed away from the empty caption's by this factor. 1: none (taming's sampling).
    /// </summary>
    public double GuidanceScale { get; init; } = 1.0;

    /// <summary>
    /// Sampling by halves with a caption-conditioned GPT: a caption of two things in a spatial relation ("a red star
    /// above a blue house") is split into one caption per half of the picture (<see cref="RegionalCaptions"/>: "a red
    /// star at the top", "a blue house at the bottom"); <see cref="Samples"/> grids are sampled for each half caption from
    /// the run's seed and ranked by CLIP against it, the best <see cref="RegionalPicks"/> of each are joined (upper or left
    /// half of one, the rest of the other; as pictures or in token space, <see cref="RegionalJoin"/>), and the
    /// composites are ranked against the whole prompt. Captions without a
    /// relation, class-conditional and unconditional models, and grids sampled with the sliding window are sampled as a
    /// whole. Not part of taming: a GPT that learned one object a scene draws two this way.
    /// </summary>
    public bool Regional { get; init; } = true;

    /// <summary>
    /// Sampled by halves: the best samples of each half that are joined (M, giving M² composites to rank). 4: on the
    /// eval's 16 two-object prompts over four seeds, 10 passed with 4 against 6 with each half's best alone (joined
    /// in token space where the halves meet); joined as pictures, 2 picks gave 9 on seeds 0-1 against 10 with 4.
    /// </summary>
    public int RegionalPicks { get; init; } = 4;

    /// <summary>
    /// Sampled by halves, drawn in the middle and joined as pictures: the halves' samples are paired by their backdrops.
    /// Outside the middle half of a middle drawing (its outer quarter on every side, where the thing never reaches) a
    /// picture is all backdrop; two samples whose pixels differ there by at most this on average (in [0, 1] per channel)
    /// are taken to share it. Of all the pairs of the two halves' samples that share a backdrop, the
    /// <see cref="RegionalPicks"/>² with the best half ranks (their sum, then the first half's) are joined; the nearest
    /// backdrops fill in when fewer agree. A GPT that was not told the backdrop draws one at random, and a join of two
    /// backdrops (sky above, night below) misleads both CLIP and the judge. 0.08 (the same backdrop measures 0.01-0.04
    /// through the first stage, sky against white 0.3, grass against sky about 0.15); null: each half's best
    /// <see cref="RegionalPicks"/> whatever their backdrops. Measured on the eval (data/README.md).
    /// </summary>
    public double? RegionalBackdrop { get; init; } = 0.08;

    /// <summary>
    /// Sampled by halves and joined in token space (<see cref="RegionalJoin.Tokens"/>): token lines (rows, or columns for left and right) each half's grid is moved away from the seam
    /// before the join, the first half's up or left, the second's down or right (at most half the lines less one). The
    /// GPT draws a big object "at the top" down to the middle row and one "at the bottom" from it, and joined there the
    /// two touch and the decoder reshapes both edges; one line of room: 13 of 64 two-object prompts over the eval's four
    /// seeds against 10 without it, 2 lines: 7 (data/README.md; measured when the halves drew from seeds apart).
    /// </summary>
    public int RegionalShift { get; init; } = 1;

    /// <summary>
    /// Sampled by halves: how the halves' picks are joined. <see cref="RegionalJoin.Pictures"/>: each pick decoded (a
    /// thing named small shrunk by <see cref="SmallScale"/> about its place), the upper or left half of one picture beside
    /// the rest of the other, encoded back to codes by the first stage; <see cref="RegionalJoin.Tokens"/>: the grids
    /// joined in token space, <see cref="RegionalShift"/> lines apart. Pictures, measured on the eval's 16 two-object
    /// prompts over four seeds (both with the halves drawn from one seed): 16 of 64 against 13 for the tokens
    /// (data/README.md); a small thing beside a big one is only possible this way.
    /// </summary>
    public RegionalJoin RegionalJoin { get; init; } = RegionalJoin.Pictures;

    /// <summary>
    /// A caption-conditioned model's thing named small ("small", "little", "tiny"; alone or in a half caption): each
    /// sample decoded, shrunk by this about the caption's place (<see cref="CaptionLayout"/>) and encoded back to codes by
    /// the first stage before the ranking. 1: the samples as drawn (a model that learned small things itself). 0.57 is
    /// the clipart world's small-to-big ratio (0.27/0.47): the shipped GPT drew every object big, and none of the eval's
    /// 5 small prompts passed on any of four seeds; shrunk, 2-3 of its 4 one-object small prompts pass a seed.
    /// </summary>
    public double SmallScale { get; init; } = 0.57;

    /// <summary>
    /// Where a caption model's samples get the caption's place ("on the left", "at the top", ...; alone or in a half
    /// caption). <see cref="SamplePlacement.Model"/> (the default) follows the model's YAML: the shipped GPT was trained
    /// on one-object scenes drawn in the middle only (<c>drawn_at: middle</c>), which taught it the kinds' shapes twice as
    /// often (held-out asked kind 0.31 against 0.14 at stage 1), so it is asked for the middle and each decoded sample is
    /// moved to the place (scaled by <see cref="SmallScale"/> when named small) and encoded back to codes before the
    /// ranking. <see cref="SamplePlacement.Move"/> and <see cref="SamplePlacement.Caption"/> force either way.
    /// </summary>
    public SamplePlacement Placement { get; init; } = SamplePlacement.Model;

    /// <summary>
    /// Steps of the VQGAN+CLIP loop started from the best sample's codes (0: no refinement). 0, measured on the
    /// shipped models' eval (48 prompts, data/README.md): the shipped transformer's samples satisfy 42/48 at seed 0
    /// as they are and 10/48 after 50 steps (its previous files: 21 and 8), which repaint the shapes the GPT drew into the blobs CLIP's gradient
    /// favours. (For the transformer shipped before 6 December, whose samples rarely had the asked shape, 50 steps were
    /// better: 10.25/48 over four seeds against 8.5.) A real taming model with a larger CLIP may still gain from it.
    /// </summary>
    public int RefineSteps { get; init; } = 0;

    /// <summary>
    /// Weight of the refinement's anchor to its start latent: the loop's init-weight term
    /// (<see cref="GuidanceOptions.InitWeight"/>, <c>weight/2 · MSE(z, z_start)</c> on the latent) with the best sample's
    /// codebook entries as z_start. 0: no anchor.
    /// </summary>
    public double AnchorWeight { get; init; } = 1.0;

    /// <summary>Let the anchor fade as 1/(2·step+1) (<see cref="GuidanceOptions.InitWeightDecay"/>); off by default, so it holds the whole refinement.</summary>
    public bool AnchorDecay { get; init; }

    /// <summary>A class-conditional model's class id (null: chosen by CLIP zero-shot over the class names).</summary>
    public int? ClassId { get; init; }

    /// <summary>How a class name is written for CLIP's text tower in the zero-shot choice ({0}: the name); CLIP's ImageNet template.</summary>
    public string ClassPromptTemplate { get; init; } = "a photo of a {0}.";

    /// <summary>Sample with the key/value cache (the same tokens, much faster; off only to compare).</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Samples drawn together in one batch (memory: the cache grows with it).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Side of the sliding window for grids larger than the GPT's block (null: the largest square window the block holds).</summary>
    public int? Window { get; init; }

    /// <summary>Cutouts of the fixed set each sample is measured on (as <see cref="BestOfStarts.EvaluationCutouts"/>).</summary>
    public int RankingCutouts { get; init; } = BestOfStarts.EvaluationCutouts;

    /// <summary>Seed of the fixed cutouts (the same for every sample, so the ranking compares pictures, not cutout luck).</summary>
    public long RankingSeed { get; init; }

    /// <summary>Checks ranges; throws an <see cref="ArgumentException"/> naming the setting.</summary>
    public void Validate()
    {
        if (Samples < 1 || Samples > MaxSamples)
            throw new ArgumentException($"Samples must be between 1 and {MaxSamples}; got {Samples}.");
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            throw new ArgumentException($"Temperature must be a positive number; got {Temperature.ToString(CultureInfo.InvariantCulture)}.");
        if (TopK is { } k && k <= 0)
            throw new ArgumentException($"TopK must be a positive number of tokens; got {k}. Leave it unset to keep every token.");
        if (TopP is { } p && (double.IsNaN(p) || p <= 0 || p > 1))
            throw new ArgumentException($"TopP must lie in (0, 1]; got {p.ToString(CultureInfo.InvariantCulture)}. 1 keeps every token.");
        if (!(GuidanceScale >= 0) || double.IsInfinity(GuidanceScale))
            throw new ArgumentException($"GuidanceScale must be 0 or a positive number (1: no guidance); got {GuidanceScale.ToString(CultureInfo.InvariantCulture)}.");
        if (RegionalPicks < 1 || RegionalPicks > 32) throw new ArgumentException($"RegionalPicks must be between 1 and 32; got {RegionalPicks}.");
        if (RegionalBackdrop is { } backdrop && !(backdrop >= 0 && backdrop <= 1))
            throw new ArgumentException($"RegionalBackdrop must be between 0 and 1 (a mean pixel difference), or off; got {backdrop.ToString(CultureInfo.InvariantCulture)}.");
        if (RegionalShift < 0 || RegionalShift > 8) throw new ArgumentException($"RegionalShift must be between 0 and 8 token lines; got {RegionalShift}.");
        if (!Enum.IsDefined(RegionalJoin)) throw new ArgumentException($"RegionalJoin must be Pictures or Tokens; got {(int)RegionalJoin}.");
        if (!Enum.IsDefined(Placement)) throw new ArgumentException($"Placement must be Model, Move or Caption; got {(int)Placement}.");
        if (!(SmallScale > 0 && SmallScale <= 1)) throw new ArgumentException($"SmallScale must lie in (0, 1] (1: leave small things as drawn); got {SmallScale.ToString(CultureInfo.InvariantCulture)}.");
        if (RefineSteps < 0) throw new ArgumentException($"RefineSteps must be 0 or more; got {RefineSteps}.");
        if (!(AnchorWeight >= 0) || double.IsInfinity(AnchorWeight))
            throw new ArgumentException($"AnchorWeight must be 0 or a positive number; got {AnchorWeight.ToString(CultureInfo.InvariantCulture)}.");
        if (ClassId is { } c && c < 0) throw new ArgumentException($"ClassId must be a class id, 0 or more; got {c}.");
        if (string.IsNullOrWhiteSpace(ClassPromptTemplate) || !ClassPromptTemplate.Contains("{0}", StringComparison.Ordinal))
            throw new ArgumentException($"ClassPromptTemplate must contain {{0}} where the class name goes; got '{ClassPromptTemplate}'.");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be at least 1; got {BatchSize}.");
        if (Window is { } w && w < 1) throw new ArgumentException($"Window must be a positive side in tokens; got {w}.");
        if (RankingCutouts < 1 || RankingCutouts > GuidanceOptions.MaxCutCount)
            throw new ArgumentException($"RankingCutouts must be between 1 and {GuidanceOptions.MaxCutCount}; got {RankingCutouts}.");
    }

    /// <summary>
    /// The transformer checkpoint and config to load: <see cref="Checkpoint"/> and <see cref="Config"/>, else the shipped
    /// model with its YAML; checked to exist.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file that does not exist, or no checkpoint given and none shipped.</exception>
    public (string Checkpoint, string? Config) ResolveFiles()
    {
        string checkpoint;
        string? config = Config;
        if (Checkpoint is not null) checkpoint = Checkpoint;
        else
        {
            var shipped = ShippedModels.RequireTransformer();
            checkpoint = shipped.Checkpoint;
            config ??= shipped.Config;
        }
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"Transformer checkpoint '{checkpoint}' does not exist.", checkpoint);
        if (config is not null && !File.Exists(config)) throw new FileNotFoundException($"Transformer config '{config}' does not exist.", config);
        return (checkpoint, config);
    }

    /// <summary>
    /// The class names of <paramref name="model"/>, loaded from <paramref name="checkpoint"/>: <see cref="ClassNamesFile"/>,
    /// else <see cref="ClassNames.For"/> (beside the checkpoint, or ImageNet's); null for a model without classes or
    /// without known names.
    /// </summary>
    /// <exception cref="ArgumentException">A class names file for a model that is not class-conditional.</exception>
    /// <exception cref="InvalidDataException">Names that do not name exactly the model's classes.</exception>
    public ClassNames? LoadClassNames(Net2NetTransformer model, string checkpoint)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (model.CondStage is not Labelator labels)
        {
            if (ClassNamesFile is not null)
                throw new ArgumentException($"ClassNamesFile applies to class-conditional transformers; '{Path.GetFileName(checkpoint)}' is {model.CondStage.Description}.");
            return null;
        }
        if (ClassNamesFile is null) return ClassNames.For(checkpoint, labels.NClasses);
        var names = ClassNames.Load(ClassNamesFile);
        names.CheckCount(labels.NClasses);
        return names;
    }

    /// <summary>The sampler's options: these temperature and filters, multinomial draws from <paramref name="generator"/>.</summary>
    public SamplingOptions ToSamplingOptions(Generator generator) => new()
    {
        Temperature = Temperature,
        TopK = TopK,
        TopP = TopP,
        GuidanceScale = GuidanceScale,
        Sample = true,
        Generator = generator,
    };

    /// <summary>One line for logs: "16 samples, temperature 0.5, top-k 100, top-p off, refine 0" (settings at their defaults left out).</summary>
    public string Describe()
    {
        var d = Default;
        string regional = !Regional ? "regional off, " : string.Create(CultureInfo.InvariantCulture,
            $"{(RegionalPicks != d.RegionalPicks ? $"regional picks {RegionalPicks}, " : "")}{(RegionalJoin != d.RegionalJoin ? $"regional join {RegionalJoin.ToString().ToLowerInvariant()}, " : "")}{(RegionalShift != d.RegionalShift ? $"regional shift {RegionalShift}, " : "")}{(RegionalBackdrop != d.RegionalBackdrop ? $"regional backdrop {(RegionalBackdrop is { } b ? b.ToString(CultureInfo.InvariantCulture) : "off")}, " : "")}");
        return string.Create(CultureInfo.InvariantCulture,
            $"{Samples} samples, temperature {Temperature}, top-k {(TopK is { } k ? k.ToString(CultureInfo.InvariantCulture) : "off")}, top-p {(TopP is { } p ? p.ToString(CultureInfo.InvariantCulture) : "off")}, {(GuidanceScale != 1.0 ? $"guidance {GuidanceScale}, " : "")}{regional}{(SmallScale != d.SmallScale ? $"small scale {SmallScale}, " : "")}{(Placement != d.Placement ? $"placement {Placement.ToString().ToLowerInvariant()}, " : "")}refine {RefineSteps}{(RefineSteps > 0 ? $" (anchor {AnchorWeight}{(AnchorDecay ? ", fading" : "")})" : "")}{(ClassId is { } c ? $", class {c}" : "")}");
    }
}
