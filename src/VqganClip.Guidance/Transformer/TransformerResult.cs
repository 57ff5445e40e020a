using System.Globalization;
using VqganClip.Guidance.Prompts;
using VqganClip.Guidance.Running;
using static TorchSharp.torch;

namespace VqganClip.Guidance;

/// <summary>What a transformer's conditioning stage reads in a text-to-picture run.</summary>
public enum TransformerConditioningKind
{
    /// <summary>An unconditional model: the SOS token.</summary>
    Unconditional,
    /// <summary>A class-conditional model (<c>Labelator</c>): one class id.</summary>
    Class,
    /// <summary>A caption-conditioned model (its stage is an <c>ITextConditioning</c>): the prompt's text.</summary>
    Caption,
}

/// <summary>How well one class name matches the prompts (the prompt loss of its text embedding; lower is closer).</summary>
public sealed record ClassScore(int ClassId, string Name, double Loss);

/// <summary>The conditioning a run sampled with: its kind, the tokens of one row, and how they were chosen.</summary>
public sealed record TransformerConditioning
{
    public required TransformerConditioningKind Kind { get; init; }

    /// <summary>The conditioning tokens of one sample (every sample gets the same).</summary>
    public required IReadOnlyList<long> Tokens { get; init; }

    /// <summary>A caption model's empty caption (what caption dropout taught it as "no caption"): the sequence
    /// classifier-free guidance contrasts with. Null for other conditionings.</summary>
    public IReadOnlyList<long>? UnconditionalTokens { get; init; }

    /// <summary>The class id (class-conditional models).</summary>
    public int? ClassId { get; init; }

    /// <summary>The class's name, when the model's classes have names.</summary>
    public string? ClassName { get; init; }

    /// <summary>True when CLIP chose the class (zero-shot over the class names), false when it was given.</summary>
    public bool ClassChosenByClip { get; init; }

    /// <summary>The zero-shot scores of the best classes, best first (empty when the class was given).</summary>
    public IReadOnlyList<ClassScore> ClassScores { get; init; } = [];

    /// <summary>The caption (caption-conditioned models): the text of the first positive text prompt.</summary>
    public string? Caption { get; init; }

    /// <summary>Regional sampling's two captions (upper or left half first), when the caption was split; null otherwise.</summary>
    public RegionalCaptions? Regions { get; init; }

    /// <summary>The conditioning tokens of each region's caption, in the order of <see cref="Regions"/>' captions.</summary>
    public IReadOnlyList<IReadOnlyList<long>>? RegionTokens { get; init; }

    /// <summary>
    /// A caption that names its thing small (<see cref="TransformerSettings.SmallScale"/>): the scale each sample was
    /// shrunk by and the point it was shrunk about (fractions of width and height); null when nothing was shrunk.
    /// </summary>
    public (double Scale, double X, double Y)? SmallShrink { get; init; }

    /// <summary>
    /// True when the GPT was asked to draw in the middle (<see cref="TransformerSettings.Placement"/>): a caption's place
    /// phrase read as "in the middle" (<see cref="AskedCaption"/>), each half caption's too, and the samples moved to the place.
    /// </summary>
    public bool DrawnInMiddle { get; init; }

    /// <summary>The caption the GPT read, when it is not <see cref="Caption"/> (its place said as "in the middle").</summary>
    public string? AskedCaption { get; init; }

    /// <summary>
    /// A caption drawn in the middle and moved to its place: the scale each sample was shrunk by (1, or
    /// <see cref="TransformerSettings.SmallScale"/> for a thing named small) and the place its middle was moved to
    /// (fractions of width and height); null when nothing was moved.
    /// </summary>
    public (double Scale, double X, double Y)? MovedTo { get; init; }

    /// <summary>Words of the caption the conditioning stage does not know.</summary>
    public IReadOnlyList<string> UnknownWords { get; init; } = [];

    /// <summary>One line: "class 3 'zebra' (chosen by CLIP zero-shot)", "caption 'a red circle'", "unconditional (SOS token 0)".</summary>
    public string Describe() => Kind switch
    {
        TransformerConditioningKind.Class => $"class {ClassId}{(ClassName is null ? "" : $" '{ClassName}'")} ({(ClassChosenByClip ? "chosen by CLIP zero-shot" : "given")})",
        TransformerConditioningKind.Caption => Regions is { } r
            ? $"caption '{Caption}', by halves ({(r.Axis == RegionAxis.Rows ? "upper" : "left")}: '{r.First}'; {(r.Axis == RegionAxis.Rows ? "lower" : "right")}: '{r.Second}')" +
              (DrawnInMiddle ? ", each half drawn in the middle and moved to its place" : "")
            : MovedTo is { } m
                ? string.Create(CultureInfo.InvariantCulture, $"caption '{Caption}', drawn as '{AskedCaption ?? Caption}' and moved to ({m.X}, {m.Y}){(m.Scale != 1 ? $", shrunk by {m.Scale}" : "")}")
            : SmallShrink is { } k
                ? string.Create(CultureInfo.InvariantCulture, $"caption '{Caption}', a small thing: each sample shrunk by {k.Scale} about ({k.X}, {k.Y})")
                : $"caption '{Caption}'",
        _ => $"unconditional (SOS token {Tokens[0]})",
    };
}

/// <summary>One sampled token grid, decoded and measured.</summary>
/// <param name="Sample">Its place in sampling order (0-based).</param>
/// <param name="Rank">Its place in the ranking (0 = best).</param>
/// <param name="Codes">The first stage's codebook indices, row-major over the grid (GPT order after the permuter; the identity for released models).</param>
/// <param name="GridHeight">Rows of the token grid.</param>
/// <param name="GridWidth">Columns of the token grid.</param>
/// <param name="Image">The decoded picture, [0, 1].</param>
/// <param name="Loss">Its prompt loss on the fixed cutouts (the loop's loss: weighted spherical distances, negative prompts included).</param>
/// <param name="Prompts">Each prompt's term of <paramref name="Loss"/>.</param>
public sealed record TransformerCandidate(int Sample, int Rank, IReadOnlyList<long> Codes, int GridHeight, int GridWidth,
    RenderedImage Image, double Loss, IReadOnlyList<PromptLoss> Prompts)
{
    /// <summary>The codes as a new tensor [GridHeight, GridWidth] (int64, CPU); the caller owns it.</summary>
    public Tensor CodesTensor() => tensor(Codes.ToArray(), new long[] { GridHeight, GridWidth });
}

/// <summary>The stage of a pipeline run a progress report is about.</summary>
public enum TransformerStage
{
    /// <summary>A token was sampled.</summary>
    Sampling,
    /// <summary>A sample was decoded and measured.</summary>
    Ranking,
    /// <summary>A refinement step was taken.</summary>
    Refining,
}

/// <summary>
/// A progress report of <see cref="TransformerPipeline.Run(TransformerRequest, Action{TransformerProgress}?, CancellationToken)"/>,
/// synchronous. Sampling: one per token of every batch (<see cref="Completed"/> of <see cref="Total"/> grid tokens,
/// <see cref="Row"/>, <see cref="EndOfRow"/> at the last token of a grid row) with <see cref="Tokens"/>; ranking: one
/// per sample with its <see cref="Candidate"/>; refining: one per step with the loop's <see cref="Refine"/> report.
/// </summary>
public sealed record TransformerProgress
{
    public required TransformerStage Stage { get; init; }

    /// <summary>Sampling: tokens of the current batch's grids done; ranking: samples measured; refining: steps done.</summary>
    public required int Completed { get; init; }

    /// <summary>Sampling: tokens of a grid; ranking: samples; refining: refinement steps.</summary>
    public required int Total { get; init; }

    /// <summary>Sampling: the batch (0-based) and the number of batches.</summary>
    public int Batch { get; init; }
    public int Batches { get; init; }

    /// <summary>
    /// Sampled by halves (<see cref="TransformerConditioning.Regions"/>): the half whose caption is being sampled, 0 or 1
    /// (each half's batches count from 0 again); null when the caption conditions the whole grid. Ranking reports
    /// come for the joins only.
    /// </summary>
    public int? Region { get; init; }

    /// <summary>The samples of the current batch (sampling), and which samples those are (their first index).</summary>
    public int BatchSamples { get; init; }
    public int FirstSample { get; init; }

    /// <summary>Sampling: the grid row of the token just sampled, and whether it completed that row.</summary>
    public int Row { get; init; }
    public bool EndOfRow { get; init; }

    public int GridHeight { get; init; }
    public int GridWidth { get; init; }

    /// <summary>
    /// Sampling: the batch's tokens so far, [B, t] (t = <see cref="Completed"/>, row-major) or, with the sliding window,
    /// the whole grid [B, H, W] with the cells not yet sampled at 0. Valid only during the call (copy what you keep);
    /// <see cref="TransformerPipeline.DecodePartial"/> turns it into pictures.
    /// </summary>
    public Tensor? Tokens { get; init; }

    /// <summary>Ranking: the sample just measured (its <see cref="TransformerCandidate.Rank"/> is not known yet: -1).</summary>
    public TransformerCandidate? Candidate { get; init; }

    /// <summary>Refining: the loop's report of the step.</summary>
    public StepReport? Refine { get; init; }
}

/// <summary>What to draw and how: the prompts, the picture, the seed, the transformer's settings and the loop's options.</summary>
public sealed record TransformerRequest
{
    /// <summary>The prompts (the first phase's prompts and <see cref="ExtraPrompts"/> rank the samples and guide the refinement).</summary>
    public required PromptScript Prompts { get; init; }

    /// <summary>Image and noise prompts, active throughout.</summary>
    public IReadOnlyList<PromptSpec> ExtraPrompts { get; init; } = [];

    /// <summary>Picture size in pixels (rounded down to the first stage's blocks); null: the model's own square window.</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }

    /// <summary>Seed of the samples and of the refinement: the same seed and settings give the same codes and picture.</summary>
    public long Seed { get; init; }

    public TransformerSettings Settings { get; init; } = TransformerSettings.Default;

    /// <summary>The cutouts that rank the samples (method, power, augmentations) and the refinement loop's settings.</summary>
    public GuidanceOptions Guidance { get; init; } = GuidanceOptions.Default;
}

/// <summary>A run of the pipeline: the conditioning, the samples ranked best first, and the final picture.</summary>
public sealed record TransformerResult
{
    public required TransformerConditioning Conditioning { get; init; }

    /// <summary>
    /// Every sample, best (lowest loss) first. Sampled by halves (<see cref="TransformerConditioning.Regions"/>), the
    /// composites of the halves' best <see cref="TransformerSettings.RegionalPicks"/>: composite a·M + b joins the upper
    /// (left) half of the first half's rank-a sample and the lower (right) half of the second's rank-b sample.
    /// </summary>
    public required IReadOnlyList<TransformerCandidate> Candidates { get; init; }

    /// <summary>Sampled by halves: each half caption's samples, whole grids ranked against that caption, best first (empty otherwise).</summary>
    public IReadOnlyList<IReadOnlyList<TransformerCandidate>> RegionCandidates { get; init; } = [];

    /// <summary>Whether the caption was sampled by halves (the candidates are joins of <see cref="RegionCandidates"/>).</summary>
    public bool ByHalves => RegionCandidates.Count > 0;

    /// <summary>The sample CLIP rates best.</summary>
    public TransformerCandidate Best => Candidates[0];

    /// <summary>The final picture: the best sample, or its refinement.</summary>
    public required RenderedImage Image { get; init; }

    /// <summary>The final picture's prompt loss on the same fixed cutouts as the samples' (so refinement's effect shows).</summary>
    public required double Loss { get; init; }

    public required IReadOnlyList<PromptLoss> PromptLosses { get; init; }

    /// <summary>The refinement loop's loss records (every <see cref="GuidanceOptions.LossReadbackEvery"/> steps; empty without refinement).</summary>
    public IReadOnlyList<LossRecord> RefineHistory { get; init; } = [];

    /// <summary>The refinement's snapshots (every <see cref="GuidanceOptions.SnapshotEvery"/> steps).</summary>
    public IReadOnlyList<RenderedImage> RefineSnapshots { get; init; } = [];

    /// <summary>Refinement steps taken.</summary>
    public int RefineSteps { get; init; }

    /// <summary>The refinement loop's options (anchor included); null without refinement.</summary>
    public GuidanceOptions? RefineOptions { get; init; }

    /// <summary>True when the refinement was cancelled before its last step (the picture is the one reached).</summary>
    public bool Cancelled { get; init; }

    public required int Width { get; init; }
    public required int Height { get; init; }
    public required int GridHeight { get; init; }
    public required int GridWidth { get; init; }

    /// <summary>The sliding window's side, when the grid was larger than the GPT's block; null when sampled directly.</summary>
    public int? Window { get; init; }

    public required long Seed { get; init; }
    public required TransformerSettings Settings { get; init; }

    /// <summary>Things the user should know (unknown caption words, a grid unlike the model's training grid).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public double SamplingSeconds { get; init; }
    public double RankingSeconds { get; init; }
    public double RefineSeconds { get; init; }

    /// <summary>Image tokens sampled per second (all samples together; by halves, both halves' samples).</summary>
    public double TokensPerSecond => SamplingSeconds > 0
        ? (double)(ByHalves ? RegionCandidates.Sum(r => r.Count) : Candidates.Count) * GridHeight * GridWidth / SamplingSeconds
        : 0;

    /// <summary>"sample 3 0.7123, sample 0 0.7345, ..." best first ("join 5 ..." when sampled by halves).</summary>
    public string DescribeRanking() =>
        string.Join(", ", Candidates.Select(c => string.Create(CultureInfo.InvariantCulture, $"{(ByHalves ? "join" : "sample")} {c.Sample} {c.Loss:F4}")));
}
