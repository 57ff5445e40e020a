using System.Text.Json.Serialization;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Losses;
using VqganClip.Guidance.Optimization;

namespace VqganClip.Guidance;

/// <summary>Which cutout method a run uses.</summary>
public enum CutMethod
{
    /// <summary>The original notebook's random square crops (<see cref="OriginalCutouts"/>).</summary>
    Original,
    /// <summary>Crops plus flips, affine, perspective, colour jitter and noise (<see cref="AugmentedCutouts"/>).</summary>
    Augmented,
    /// <summary>Big Sleep's crops: sizes around 0.8 of the picture, nearest resize (<see cref="BigSleep.BigSleepCutouts"/>).</summary>
    BigSleep,
    /// <summary>StyleCLIP's whole picture, nearest ×7 then average-pooled to CLIP's side, not normalised (<see cref="StyleClip.StyleClipCutouts"/>).</summary>
    StyleClip,
}

/// <summary>How a prompt scores the cutouts' CLIP embeddings.</summary>
public enum PromptLossKind
{
    /// <summary>The VQGAN+CLIP notebooks' squared spherical distance, times the weight (<see cref="Prompts.Prompt.Loss"/>).</summary>
    Spherical,
    /// <summary>Big Sleep's <c>−100 · cos(text, image)</c> averaged over the cutouts, times the weight (a negative weight, Big Sleep's "min" prompt, gives <c>+100 · cos</c>).</summary>
    Cosine,
    /// <summary>StyleCLIP's <c>1 − exp(logit_scale)·cos(image, text)/100</c> (1 − cos for a trained CLIP), averaged over the cutouts, times the weight.</summary>
    StyleClip,
}

/// <summary>
/// Everything about a guided run except the generator, CLIP and the prompts, and the one home of their defaults
/// (<see cref="Default"/>; the command line's options and <see cref="RunRecipe"/> read theirs from it). Defaults
/// follow the original (Adam, lr 0.1, cut_pow 1, <see cref="CutCount"/> 32 like its <c>cutn</c>), except the cutouts:
/// augmented, as generate.py's, because with a picture no larger than CLIP's input every plain crop is the whole
/// picture, and optimising one view of it makes adversarial texture rather than objects (seen with the shipped models).
/// Saved with a run as JSON (properties marked <see cref="JsonIgnoreAttribute"/> are code-only and must be given again on resume).
/// </summary>
public sealed record GuidanceOptions
{
    /// <summary>The defaults: what a run gets when it is given no options, from a notebook or the command line.</summary>
    public static GuidanceOptions Default { get; } = new();

    /// <summary>Cutouts per step (<c>cutn</c>).</summary>
    public int CutCount { get; init; } = 32;
    /// <summary>Cutout size bias (<c>cut_pow</c>): &gt;1 favours small crops, &lt;1 large ones.</summary>
    public double CutPower { get; init; } = 1.0;
    public CutMethod CutMethod { get; init; } = CutMethod.Augmented;
    /// <summary>How each prompt's loss is computed from the cutouts' embeddings (<see cref="PromptLossKind"/>).</summary>
    public PromptLossKind PromptLoss { get; init; } = PromptLossKind.Spherical;
    /// <summary>Augmentation settings for <see cref="CutMethod.Augmented"/>.</summary>
    public AugmentOptions Augment { get; init; } = new();

    /// <summary>Optimizer name, see <see cref="OptimizerFactory.Names"/>.</summary>
    public string Optimizer { get; init; } = "Adam";
    public double LearningRate { get; init; } = 0.1;
    /// <summary>Learning-rate schedule in text form (<see cref="Schedules.Parse"/>); "constant" by default.</summary>
    public string Schedule { get; init; } = "constant";
    /// <summary>A schedule given in code; overrides <see cref="Schedule"/>. Not saved.</summary>
    [JsonIgnore] public ISchedule? CustomSchedule { get; init; }
    /// <summary>A cutout maker given in code; overrides <see cref="CutMethod"/>. Not saved.</summary>
    [JsonIgnore] public ICutouts? CustomCutouts { get; init; }

    /// <summary>Seed of the run's random generator: same seed and settings, same picture (on the same machine).</summary>
    public long Seed { get; init; }

    /// <summary>Keep a snapshot of the picture every this many steps (0: none).</summary>
    public int SnapshotEvery { get; init; }
    /// <summary>Read the loss values back into <see cref="GuidedRun.History"/> every this many steps (1: every step).</summary>
    public int LossReadbackEvery { get; init; } = 1;

    /// <summary>Weight of the total-variation regulariser (0: off).</summary>
    public double TotalVariationWeight { get; init; }
    /// <summary>Weight of the init anchor (the original's <c>init_weight</c>; 0: off).</summary>
    public double InitWeight { get; init; }
    /// <summary>Let the init anchor fade as 1/(2·step+1).</summary>
    public bool InitWeightDecay { get; init; } = true;
    public AnchorSpace InitAnchorSpace { get; init; } = AnchorSpace.Parameters;

    /// <summary>
    /// A picture whose style the run keeps to (null: none): Gram matrices of ResNet18 features at four layers
    /// (<see cref="Losses.GramStyleLoss"/>), style transfer with CLIP guidance: the prompt says what, this picture how.
    /// </summary>
    public string? StyleImage { get; init; }
    /// <summary>
    /// Weight of the style term. Measured on the shipped models ("a red star", 40 steps, a striped style picture): at
    /// 100 and above the style wipes out the prompt, at 30 the star shows through the stripes; 20 leans to the prompt.
    /// </summary>
    public double StyleWeight { get; init; } = 20;
    /// <summary>
    /// A picture whose ResNet18 features (stage2.block2) the run stays close to (null: none;
    /// <see cref="Losses.FeatureDistanceLoss"/>): "keep what a network sees of it", looser than the pixel anchor.
    /// </summary>
    public string? FeatureImage { get; init; }
    /// <summary>
    /// Weight of the feature term. Measured with the pixels generator ("a blue circle" from a red clipart picture, 40
    /// steps): 0.05 barely holds the start's shapes, 1 keeps them while the colours move; 0.5 between.
    /// </summary>
    public double FeatureWeight { get; init; } = 0.5;
    /// <summary>The ONNX ResNet the perceptual terms use (null: ML.NET's ResNet18 from the restored NuGet package).</summary>
    public string? PerceptualModel { get; init; }

    /// <summary>With a story prompt ('^' phases): switch phase every this many steps (0: stay in the first phase).</summary>
    public int PhaseSteps { get; init; }

    /// <summary>
    /// The most cutouts a step may take. Every cutout is a CLIP forward and backward pass, so time and memory grow with
    /// the count: 1024 is 32 times the default's work per step, past anything the original notebooks used (32-128).
    /// </summary>
    public const int MaxCutCount = 1024;

    /// <summary>
    /// The cutout maker these options describe, for a CLIP of input side <paramref name="cutSize"/>, with
    /// <paramref name="count"/> cutouts (null: <see cref="CutCount"/>): <see cref="CustomCutouts"/> when given.
    /// </summary>
    public ICutouts CreateCutouts(int cutSize, int? count = null) => CustomCutouts ?? CutMethod switch
    {
        CutMethod.Augmented => new AugmentedCutouts(cutSize, count ?? CutCount, CutPower, Augment),
        CutMethod.BigSleep => new BigSleep.BigSleepCutouts(cutSize, count ?? CutCount),
        CutMethod.StyleClip => new StyleClip.StyleClipCutouts(cutSize),
        _ => new OriginalCutouts(cutSize, count ?? CutCount, CutPower),
    };

    /// <summary>Checks ranges; throws an <see cref="ArgumentException"/> naming the setting.</summary>
    public void Validate()
    {
        if (CutCount <= 0 || CutCount > MaxCutCount)
            throw new ArgumentException($"CutCount must be between 1 and {MaxCutCount}; got {CutCount}. Each cutout costs a CLIP forward and backward pass every step.");
        if (!(CutPower > 0) || double.IsInfinity(CutPower)) throw new ArgumentException($"CutPower must be a positive number; got {CutPower}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"LearningRate must be a positive number; got {LearningRate}.");
        OptimizerFactory.Canonical(Optimizer);
        if (CustomSchedule is null) Schedules.Parse(Schedule);
        if (SnapshotEvery < 0) throw new ArgumentException($"SnapshotEvery must be 0 or more; got {SnapshotEvery}.");
        if (LossReadbackEvery <= 0) throw new ArgumentException($"LossReadbackEvery must be at least 1; got {LossReadbackEvery}.");
        if (PhaseSteps < 0) throw new ArgumentException($"PhaseSteps must be 0 or more; got {PhaseSteps}.");
        if (TotalVariationWeight < 0 || InitWeight < 0) throw new ArgumentException("Regulariser weights must be 0 or more.");
        if (!(StyleWeight >= 0) || double.IsInfinity(StyleWeight)) throw new ArgumentException($"StyleWeight must be 0 or more; got {StyleWeight}.");
        if (!(FeatureWeight >= 0) || double.IsInfinity(FeatureWeight)) throw new ArgumentException($"FeatureWeight must be 0 or more; got {FeatureWeight}.");
    }
}
