using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Losses;
using VqganClip.Guidance.Prompts;
using VqganClip.Guidance.Running;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Guidance;

/// <summary>
/// The picture size of a pipeline run and how its token grid is sampled: <see cref="GridHeight"/>×<see cref="GridWidth"/>
/// tokens of the first stage, directly (<see cref="Window"/> null) or with the sliding window of that side.
/// </summary>
public readonly record struct TransformerGrid(int Width, int Height, int GridHeight, int GridWidth, int? Window)
{
    public int Tokens => GridHeight * GridWidth;
}

/// <summary>
/// Text to picture with a taming transformer (VQGAN's second stage) and CLIP, as "VQGAN + transformer + CLIP"
/// pipelines do:
/// <list type="number">
/// <item>conditioning: a caption-conditioned model (its stage an <see cref="ITextConditioning"/>) reads the text of the
///   first positive text prompt; a class-conditional one (<see cref="Labelator"/>) the class CLIP chooses zero-shot
///   over its class names (<see cref="ZeroShot"/>), unless <see cref="TransformerSettings.ClassId"/> is given; an
///   unconditional one its SOS token;</item>
/// <item>sample <see cref="TransformerSettings.Samples"/> token grids for the picture (batched, from a generator seeded
///   with the run's seed, with the key/value cache; with the sliding window when the grid is larger than the GPT's
///   block); a caption of two things in a relation, by halves (<see cref="TransformerSettings.Regional"/>): each half
///   caption's grids ranked against it, and the best of each joined in token space;</item>
/// <item>decode each with the first stage and measure it with CLIP on one fixed set of cutouts against the prompts:
///   the loop's own loss (<see cref="Prompt.Loss"/>: weighted spherical distances, negative prompts pushing away), the
///   first phase's prompts and the extras, as <see cref="GuidedRun.Evaluate"/> measures a picture; rank them;</item>
/// <item>optionally refine the best with the VQGAN+CLIP loop (<see cref="GuidedRun"/> over a
///   <see cref="VqganLatentGenerator"/> on the transformer's first stage, its latent the best grid's codebook entries),
///   anchored to that start latent by the loop's init-weight term (<see cref="TransformerSettings.AnchorWeight"/>).</item>
/// </list>
/// Holds the models (not owned) and caches the class names' CLIP embeddings across runs.
/// </summary>
public sealed class TransformerPipeline : IDisposable
{
    /// <summary>The generator's name on the command line and in <see cref="RunRecipe.Generator"/>.</summary>
    public const string GeneratorName = "transformer";

    private readonly Dictionary<string, ClassZeroShot> _zeroShots = new(StringComparer.Ordinal);
    private int? _conditioningLength;
    private bool _disposed;

    /// <summary>
    /// A pipeline over <paramref name="model"/> and <paramref name="clip"/> (neither owned). <paramref name="classNames"/>
    /// names a class-conditional model's classes (needed to choose a class by CLIP).
    /// </summary>
    /// <exception cref="NotSupportedException">A conditioning stage that needs an image or a map (VQGAN or coordinate stages).</exception>
    /// <exception cref="ArgumentException">Class names for a model that is not class-conditional.</exception>
    /// <exception cref="InvalidDataException">Class names that do not name exactly the model's classes.</exception>
    public TransformerPipeline(Net2NetTransformer model, ClipModel clip, ClassNames? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(clip);
        TorchRuntime.EnsureInitialized();
        if (model.CondStage is not (ITextConditioning or Labelator or SosProvider))
            throw new NotSupportedException(
                $"The transformer's conditioning is {model.CondStage.Description}: it needs a conditioning image or map, which a text prompt does not give. " +
                "Text to picture works with unconditional, class-conditional and caption-conditioned transformers.");
        if (classNames is not null)
        {
            if (model.CondStage is not Labelator labels)
                throw new ArgumentException($"Class names were given but the transformer is not class-conditional: its conditioning is {model.CondStage.Description}.", nameof(classNames));
            classNames.CheckCount(labels.NClasses);
        }
        Model = model;
        Clip = clip;
        ClassNames = classNames;
    }

    public Net2NetTransformer Model { get; }

    public ClipModel Clip { get; }

    /// <summary>The class-conditional model's class names (null: none known).</summary>
    public ClassNames? ClassNames { get; }

    /// <summary>What the model's conditioning stage reads.</summary>
    public TransformerConditioningKind ConditioningKind => Model.CondStage switch
    {
        ITextConditioning => TransformerConditioningKind.Caption,
        Labelator => TransformerConditioningKind.Class,
        _ => TransformerConditioningKind.Unconditional,
    };

    /// <summary>Conditioning tokens before the image tokens (1 for SOS and class models; the caption length for caption models).</summary>
    public int ConditioningLength => _conditioningLength ??= Model.CondStage switch
    {
        ITextConditioning text => CaptionLength(text),
        _ => 1,
    };

    private static int CaptionLength(ITextConditioning text)
    {
        using var tokens = text.EncodeText(new[] { "a" });
        return (int)tokens.shape[1];
    }

    /// <summary>The side of the largest square token grid the GPT's block holds after the conditioning: the grid it was trained on.</summary>
    public int WindowSide
    {
        get
        {
            long positions = (long)Model.Transformer.BlockSize - ConditioningLength + 1;
            int side = (int)Math.Sqrt(positions);
            while ((long)(side + 1) * (side + 1) <= positions) side++;
            while (side > 0 && (long)side * side > positions) side--;
            return side;
        }
    }

    /// <summary>The picture size when none is given: the model's own square window of tokens, in pixels.</summary>
    public (int Width, int Height) DefaultSize
    {
        get
        {
            int side = Math.Max(1, WindowSide) * Model.FirstStage.DownsamplingFactor;
            return (side, side);
        }
    }

    /// <summary>
    /// The token grid of a <paramref name="width"/>×<paramref name="height"/> picture (null: <see cref="DefaultSize"/>;
    /// rounded down to the first stage's blocks of f pixels, as the vqgan generator does) and how it is sampled: directly
    /// when the conditioning and the grid fit the GPT's block, else with a sliding window of side
    /// <paramref name="window"/> (null: <see cref="WindowSide"/>). <paramref name="warnings"/> hears about a grid whose
    /// rows differ from the window's (the GPT learned rows of <see cref="WindowSide"/> tokens).
    /// </summary>
    /// <exception cref="ArgumentException">A picture smaller than one block, or too large to sample directly and narrower than the window.</exception>
    public TransformerGrid PlanGrid(int? width = null, int? height = null, int? window = null, ICollection<string>? warnings = null)
    {
        int f = Model.FirstStage.DownsamplingFactor;
        var (dw, dh) = DefaultSize;
        int w = width ?? dw, h = height ?? dh;
        if (w < f || h < f)
            throw new ArgumentException($"The transformer's first stage draws in blocks of {f}x{f} pixels: the picture must be at least {f}x{f}; got {w}x{h}.");
        int gw = w / f, gh = h / f;
        var plan = new TransformerGrid(gw * f, gh * f, gh, gw, null);
        int side = WindowSide;
        long needed = (long)ConditioningLength + plan.Tokens - 1;
        if (needed <= Model.Transformer.BlockSize)
        {
            if (gw != side && warnings is not null)
                warnings.Add($"The {plan.Width}x{plan.Height} picture is a {gh}x{gw} token grid, but the GPT's block holds a {side}x{side} grid: it learned rows of {side} tokens and will read rows of {gw}. A {side * f}x{side * f} picture is the size it was trained on.");
            return plan;
        }
        int windowSide = window ?? side;
        if (windowSide < 1)
            throw new ArgumentException($"The GPT's block ({Model.Transformer.BlockSize}) holds no image token after {ConditioningLength} conditioning tokens.");
        if (gh < windowSide || gw < windowSide)
            throw new ArgumentException(
                $"The {plan.Width}x{plan.Height} picture is a {gh}x{gw} token grid: {plan.Tokens} tokens after {ConditioningLength} conditioning tokens do not fit the GPT's block of {Model.Transformer.BlockSize}, " +
                $"and the sliding window of {windowSide}x{windowSide} tokens needs a grid at least that large ({windowSide * f}x{windowSide * f} pixels). Choose a size within {side * f}x{side * f} pixels, or both sides at least {windowSide * f}.");
        if ((long)ConditioningLength + (long)windowSide * windowSide - 1 > Model.Transformer.BlockSize)
            throw new ArgumentException($"Window {windowSide} is too large for the GPT's block of {Model.Transformer.BlockSize} after {ConditioningLength} conditioning tokens; the largest is {side}.");
        return plan with { Window = windowSide };
    }

    /// <summary>Runs the pipeline on a prompt string (see <see cref="PromptParser"/>) with <paramref name="settings"/> and the default loop options.</summary>
    public TransformerResult Run(string prompt, TransformerSettings? settings = null, long seed = 0, int? width = null, int? height = null,
        Action<TransformerProgress>? onProgress = null, CancellationToken ct = default) =>
        Run(new TransformerRequest
        {
            Prompts = PromptParser.Parse(prompt),
            Settings = settings ?? TransformerSettings.Default,
            Seed = seed,
            Width = width,
            Height = height,
        }, onProgress, ct);

    /// <summary>
    /// Conditions, samples, ranks and (with <see cref="TransformerSettings.RefineSteps"/>) refines: see the class summary.
    /// <paramref name="onProgress"/> hears every sampled token, measured sample and refinement step (synchronously).
    /// Cancellation stops the refinement cleanly after its step in flight (the result says <see cref="TransformerResult.Cancelled"/>);
    /// before that it throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Bad settings (named), a class id outside the model's classes, a class id for a model that has no classes, no text prompt for a caption model, a picture the model cannot sample.</exception>
    public TransformerResult Run(TransformerRequest request, Action<TransformerProgress>? onProgress = null, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(request);
        var s = request.Settings;
        s.Validate();
        request.Guidance.Validate();
        var warnings = new List<string>();
        var grid = PlanGrid(request.Width, request.Height, s.Window, warnings);
        var cutouts = RankingCutouts(request.Guidance, s.RankingCutouts);
        var prompts = EncodePrompts(request.Prompts.Phases[0].Concat(request.ExtraPrompts), cutouts, request.Seed, grid);
        try
        {
            var conditioning = ChooseConditioning(request.Prompts, prompts, s);
            if (conditioning.UnknownWords.Count > 0)
                warnings.Add($"The transformer's caption stage does not know {string.Join(", ", conditioning.UnknownWords.Select(w => $"'{w}'"))}: those words condition on nothing.");

            if (conditioning.Regions is { } split && grid.Window is not null)
            {
                warnings.Add($"The {grid.Width}x{grid.Height} picture is sampled with the sliding window, which reads one caption: '{conditioning.Caption}' conditions the whole grid instead of its halves ('{split.First}', '{split.Second}').");
                // the whole caption is read as written, so nothing is drawn in the middle to be moved
                conditioning = conditioning with { Regions = null, RegionTokens = null, DrawnInMiddle = false };
            }
            var clock = Stopwatch.StartNew();
            IReadOnlyList<IReadOnlyList<TransformerCandidate>> halves = [];
            List<long[]> codes;
            double halvesRankingSeconds = 0;
            if (conditioning.Regions is { } regions)
            {
                (halves, codes, halvesRankingSeconds) = SampleByHalves(conditioning, regions, grid, s, request, cutouts, onProgress, ct);
            }
            else
            {
                codes = SampleCodes(conditioning, grid, s, request.Seed, onProgress, ct);
                if (conditioning is { Kind: TransformerConditioningKind.Caption, Caption: { } moved, AskedCaption: not null })
                {
                    // drawn in the middle (the place phrase read as "in the middle"): each sample moved to the caption's place
                    var place = CaptionLayout.PlaceOf(moved);
                    double scale = CaptionLayout.SizeOf(moved) == ThingSize.Small ? s.SmallScale : 1.0;
                    codes = MoveAll(codes, grid, scale, Middle, place);
                    conditioning = conditioning with { MovedTo = (scale, place.X, place.Y) };
                }
                else if (conditioning is { Kind: TransformerConditioningKind.Caption, Caption: { } caption } && s.SmallScale < 1 && CaptionLayout.SizeOf(caption) == ThingSize.Small)
                {
                    var place = CaptionLayout.PlaceOf(caption);
                    codes = MoveAll(codes, grid, s.SmallScale, place, place);
                    conditioning = conditioning with { SmallShrink = (s.SmallScale, place.X, place.Y) };
                }
            }
            double samplingSeconds = clock.Elapsed.TotalSeconds - halvesRankingSeconds;

            clock.Restart();
            var ranked = Ranked(MeasureAll(codes, grid, prompts, cutouts, s, onProgress, ct));
            double rankingSeconds = clock.Elapsed.TotalSeconds + halvesRankingSeconds;

            var result = new TransformerResult
            {
                Conditioning = conditioning,
                Candidates = ranked,
                RegionCandidates = halves,
                Image = ranked[0].Image,
                Loss = ranked[0].Loss,
                PromptLosses = ranked[0].Prompts,
                Width = grid.Width,
                Height = grid.Height,
                GridHeight = grid.GridHeight,
                GridWidth = grid.GridWidth,
                Window = grid.Window,
                Seed = request.Seed,
                Settings = s,
                Warnings = warnings,
                SamplingSeconds = samplingSeconds,
                RankingSeconds = rankingSeconds,
            };
            return s.RefineSteps > 0 ? Refine(result, request, prompts, cutouts, onProgress, ct) : result;
        }
        finally
        {
            foreach (var p in prompts) p.Dispose();
        }
    }

    /// <summary>
    /// Sampling by halves (<see cref="TransformerSettings.Regional"/>): each half caption's samples, ranked against it;
    /// the composites of their best <see cref="TransformerSettings.RegionalPicks"/> (<see cref="TransformerSettings.RegionalJoin"/>), still to be ranked;
    /// and the seconds the halves' ranking took (counted as ranking, not sampling).
    /// </summary>
    private (IReadOnlyList<IReadOnlyList<TransformerCandidate>> Halves, List<long[]> Composites, double RankingSeconds) SampleByHalves(
        TransformerConditioning conditioning, RegionalCaptions regions, TransformerGrid grid, TransformerSettings s, TransformerRequest request,
        ICutouts cutouts, Action<TransformerProgress>? onProgress, CancellationToken ct)
    {
        var halves = new List<IReadOnlyList<TransformerCandidate>>();
        double rankingSeconds = 0;
        for (int r = 0; r < 2; r++)
        {
            // both halves draw from the run's seed: the backdrop, drawn in the first rows before either thing, then
            // comes out the same more often, and the join shows one backdrop (the first half's draws are the unsplit run's)
            long seed = request.Seed;
            int region = r;
            var codes = SampleCodes(conditioning with { Tokens = conditioning.RegionTokens![r] }, grid, s, seed,
                onProgress is null ? null : p => onProgress(p with { Region = region }), ct);
            var clock = Stopwatch.StartNew();
            var halfPrompts = EncodePrompts(PromptParser.Parse(regions.Captions[r]).Phases[0], cutouts, request.Seed, grid);
            try
            {
                halves.Add(Ranked(MeasureAll(codes, grid, halfPrompts, cutouts, s, null, ct)));
            }
            finally
            {
                foreach (var p in halfPrompts) p.Dispose();
            }
            rankingSeconds += clock.Elapsed.TotalSeconds;
        }
        int picks = Math.Min(s.RegionalPicks, s.Samples);
        if (s.RegionalJoin == RegionalJoin.Pictures)
            return (halves, JoinPictures(halves, regions, picks, grid, s, conditioning.DrawnInMiddle), rankingSeconds);
        var map = regions.RegionOfTokens(grid.GridHeight, grid.GridWidth);
        int lines = regions.Axis == RegionAxis.Rows ? grid.GridHeight : grid.GridWidth;
        int shift = Math.Min(s.RegionalShift, Math.Max(0, lines / 2 - 1));
        var composites = new List<long[]>(picks * picks);
        for (int a = 0; a < picks; a++)
            for (int b = 0; b < picks; b++)
            {
                var (first, second) = (halves[0][a].Codes, halves[1][b].Codes);
                composites.Add(Join(first, second, map, regions.Axis, grid.GridWidth, shift));
            }
        return (halves, composites, rankingSeconds);
    }

    /// <summary>
    /// The halves' best <paramref name="picks"/> joined as pictures (<see cref="RegionalJoin.Pictures"/>): each decoded
    /// (drawn in the middle: moved to its half caption's place; a thing named small shrunk there, <see cref="HalfScale"/>), the upper or left half of one
    /// beside the rest of the other, encoded back to codes; in the order of the token join (first half's pick, then second's).
    /// </summary>
    private List<long[]> JoinPictures(IReadOnlyList<IReadOnlyList<TransformerCandidate>> halves, RegionalCaptions regions, int picks,
        TransformerGrid grid, TransformerSettings s, bool inMiddle)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // paired by backdrop: every sample of each half is a candidate; otherwise each half's best picks, every pair
        bool byBackdrop = inMiddle && s.RegionalBackdrop is not null;
        int take = byBackdrop ? Math.Min(halves[0].Count, halves[1].Count) : picks;
        var decoded = new Tensor[2];
        for (int r = 0; r < 2; r++)
            decoded[r] = DecodeAll(halves[r].Take(take).Select(c => c.Codes).ToList(), grid);
        var order = byBackdrop
            ? PairByBackdrop(decoded[0], decoded[1], s.RegionalBackdrop!.Value, picks * picks)
            : Enumerable.Range(0, picks).SelectMany(a => Enumerable.Range(0, picks).Select(b => (A: a, B: b))).ToList();
        var shrunk = new Tensor[2];
        for (int r = 0; r < 2; r++)
        {
            string caption = regions.Captions[r];
            // a half drawn in the middle is moved to its place; one drawn there only shrinks about it (when named small)
            shrunk[r] = PictureLayout.Move(decoded[r], HalfScale(caption, s), inMiddle ? Middle : CaptionLayout.PlaceOf(caption), CaptionLayout.PlaceOf(caption));
        }
        var joined = new List<Tensor>(order.Count);
        foreach (var (a, b) in order)
            joined.Add(PictureLayout.JoinHalves(shrunk[0][a..(a + 1)], shrunk[1][b..(b + 1)], regions.Axis));
        return EncodeCodes(cat(joined, 0));
    }

    /// <summary>
    /// <paramref name="count"/> pairs (first half's sample, second half's), both in rank order, of middle drawings
    /// [N, 3, H, W] whose backdrops agree (<see cref="TransformerSettings.RegionalBackdrop"/>): the mean absolute
    /// difference of the two pictures outside their middle half at most <paramref name="tolerance"/>, best rank sum
    /// first (ties: the first half's better rank); then, if fewer agree, the nearest backdrops.
    /// </summary>
    internal static List<(int A, int B)> PairByBackdrop(Tensor first, Tensor second, double tolerance, int count)
    {
        using var scope = NewDisposeScope();
        int h = (int)first.shape[2], w = (int)first.shape[3];
        // 1 on the outer quarter of every side: a thing drawn in the middle (at most half the side) never reaches it
        var outer = ones(h, w);
        outer[(h / 4)..(3 * h / 4), (w / 4)..(3 * w / 4)] = zeros(h / 2, w / 2);
        var distance = (first.unsqueeze(1) - second.unsqueeze(0)).abs().mean([2]).mul(outer).sum([2, 3]).div(outer.sum());
        var d = distance.flatten().data<float>().ToArray();
        int n = (int)second.shape[0];
        var pairs = Enumerable.Range(0, (int)first.shape[0]).SelectMany(a => Enumerable.Range(0, n).Select(b => (A: a, B: b, D: d[a * n + b]))).ToList();
        var order = pairs.Where(p => p.D <= tolerance).OrderBy(p => p.A + p.B).ThenBy(p => p.A).Take(count).ToList();
        order.AddRange(pairs.Where(p => p.D > tolerance).OrderBy(p => p.D).ThenBy(p => p.A + p.B).Take(count - order.Count));
        return order.Select(p => (p.A, p.B)).ToList();
    }

    /// <summary>A half's scale when joined in pictures: <see cref="TransformerSettings.SmallScale"/> for a thing named small, else 1 (as drawn).</summary>
    internal static double HalfScale(string halfCaption, TransformerSettings s) =>
        CaptionLayout.SizeOf(halfCaption) == ThingSize.Small ? s.SmallScale : 1.0;

    /// <summary>The middle of a picture (fractions of width and height): where a middle-drawn GPT puts its thing.</summary>
    private static readonly (double X, double Y) Middle = (0.5, 0.5);

    /// <summary>Every grid decoded, scaled by <paramref name="scale"/>, moved from <paramref name="from"/> to <paramref name="to"/> and encoded back.</summary>
    private List<long[]> MoveAll(IReadOnlyList<long[]> codes, TransformerGrid grid, double scale, (double X, double Y) from, (double X, double Y) to)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return EncodeCodes(PictureLayout.Move(DecodeAll(codes, grid), scale, from, to));
    }

    /// <summary>Grids of <paramref name="grid"/>'s tokens (GPT order) decoded as one batch [N, 3, H, W] in [0, 1], in the caller's dispose scope.</summary>
    private Tensor DecodeAll(IReadOnlyList<IReadOnlyList<long>> codes, TransformerGrid grid) =>
        Decode(tensor(codes.SelectMany(c => c).ToArray(), new long[] { codes.Count, grid.Tokens }), grid.GridHeight, grid.GridWidth);

    /// <summary>Pictures [B, 3, H, W] in [0, 1] to their first-stage codes, GPT order (upstream's <c>encode_to_z</c> on [-1, 1]).</summary>
    private List<long[]> EncodeCodes(Tensor image01)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (_, indices) = Model.EncodeToZ(image01.mul(HeldScalars.Two).sub(HeldScalars.One));
        long n = indices.shape[0], tokens = indices.shape[1];
        var flat = indices.to(ScalarType.Int64).cpu().data<long>().ToArray();
        return Enumerable.Range(0, (int)n).Select(i => flat[(int)(i * tokens)..(int)((i + 1) * tokens)]).ToList();
    }

    /// <summary>
    /// Two grids joined (GPT order, <paramref name="width"/> tokens a row): the tokens <paramref name="map"/> gives region 0
    /// from <paramref name="first"/>, the rest from <paramref name="second"/>, each grid moved <paramref name="shift"/>
    /// lines away from the seam (up or left for the first, down or right for the second; its lines past the outer edge
    /// drop out), so that two objects drawn up to the middle do not meet there.
    /// </summary>
    internal static long[] Join(IReadOnlyList<long> first, IReadOnlyList<long> second, IReadOnlyList<int> map, RegionAxis axis, int width, int shift)
    {
        var joined = new long[map.Count];
        for (int t = 0; t < joined.Length; t++)
        {
            int row = t / width, col = t % width;
            bool fromFirst = map[t] == 0;
            int offset = fromFirst ? shift : -shift;
            joined[t] = axis == RegionAxis.Rows
                ? (fromFirst ? first : second)[(row + offset) * width + col]
                : (fromFirst ? first : second)[row * width + col + offset];
        }
        return joined;
    }

    /// <summary>Decodes and measures every grid against <paramref name="prompts"/>, in order; <paramref name="onProgress"/> hears each.</summary>
    private List<TransformerCandidate> MeasureAll(IReadOnlyList<long[]> codes, TransformerGrid grid, IReadOnlyList<Prompt> prompts, ICutouts cutouts,
        TransformerSettings s, Action<TransformerProgress>? onProgress, CancellationToken ct)
    {
        var measured = new List<TransformerCandidate>(codes.Count);
        for (int k = 0; k < codes.Count; k++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var idx = tensor(codes[k], new long[] { 1, codes[k].Length });
            var image = Decode(idx, grid.GridHeight, grid.GridWidth);
            var (loss, perPrompt) = Score(image, prompts, cutouts, s.RankingSeed);
            var candidate = new TransformerCandidate(k, -1, codes[k], grid.GridHeight, grid.GridWidth, RenderedImage.FromTensor(image, 0), loss, perPrompt);
            measured.Add(candidate);
            onProgress?.Invoke(new TransformerProgress
            {
                Stage = TransformerStage.Ranking, Completed = k + 1, Total = codes.Count, Candidate = candidate,
                GridHeight = grid.GridHeight, GridWidth = grid.GridWidth,
            });
        }
        return measured;
    }

    /// <summary>Best (lowest loss) first, ties in sampling order; each given its rank.</summary>
    private static List<TransformerCandidate> Ranked(IEnumerable<TransformerCandidate> measured) =>
        measured.OrderBy(c => c.Loss).ThenBy(c => c.Sample).Select((c, rank) => c with { Rank = rank }).ToList();

    /// <summary>The refinement: the loop from the best sample's codes, anchored to them; the final picture measured on the ranking's cutouts.</summary>
    private TransformerResult Refine(TransformerResult sampled, TransformerRequest request, IReadOnlyList<Prompt> prompts, ICutouts cutouts,
        Action<TransformerProgress>? onProgress, CancellationToken ct)
    {
        var s = request.Settings;
        var options = RefineOptions(request);
        var clock = Stopwatch.StartNew();
        var generator = StartGenerator(sampled.Best.Codes, sampled.Width, sampled.Height);
        using var run = new GuidedRun(generator, Clip, request.Prompts, options, request.ExtraPrompts);
        Action<StepReport>? onUpdate = onProgress is null ? null : r => onProgress(new TransformerProgress
        {
            Stage = TransformerStage.Refining, Completed = r.Completed, Total = s.RefineSteps, Refine = r,
            GridHeight = sampled.GridHeight, GridWidth = sampled.GridWidth,
        });
        var report = run.Step(s.RefineSteps, ct: ct, every: 1, onUpdate: onUpdate);
        using var final = run.Current();
        var (loss, perPrompt) = Score(final, prompts, cutouts, s.RankingSeed);
        return sampled with
        {
            Image = RenderedImage.FromTensor(final, run.StepCount),
            Loss = loss,
            PromptLosses = perPrompt,
            RefineHistory = run.History.ToList(),
            RefineSnapshots = run.Snapshots.ToList(),
            RefineSteps = run.StepCount,
            RefineOptions = options,
            Cancelled = report.Cancelled,
            RefineSeconds = clock.Elapsed.TotalSeconds,
        };
    }

    /// <summary>
    /// The loop options of the refinement: the request's <see cref="TransformerRequest.Guidance"/> with its seed and the
    /// anchor: <see cref="GuidanceOptions.InitWeight"/> = <see cref="TransformerSettings.AnchorWeight"/> on the latent
    /// (<see cref="AnchorSpace.Parameters"/>), fading only with <see cref="TransformerSettings.AnchorDecay"/>.
    /// </summary>
    public static GuidanceOptions RefineOptions(TransformerRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Guidance with
        {
            Seed = request.Seed,
            InitWeight = request.Settings.AnchorWeight,
            InitWeightDecay = request.Settings.AnchorDecay,
            InitAnchorSpace = AnchorSpace.Parameters,
        };
    }

    /// <summary>
    /// A vqgan generator over the transformer's first stage whose latent is the codebook entries of
    /// <paramref name="codes"/> (GPT order, a grid of the <paramref name="width"/>×<paramref name="height"/> picture):
    /// it renders the decoded sample, and the loop can move it from there. The caller owns it.
    /// </summary>
    public VqganLatentGenerator StartGenerator(IReadOnlyList<long> codes, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(codes);
        var generator = new VqganLatentGenerator(Model.FirstStage, width, height, LatentInit.Image);
        try
        {
            if (codes.Count != generator.TokensX * generator.TokensY)
                throw new ArgumentException($"{codes.Count} codes do not fill the {generator.TokensY}x{generator.TokensX} token grid of a {generator.Width}x{generator.Height} picture.", nameof(codes));
            using var state = new StateDict("generator");
            state.Add("z", CodesToLatent(codes, generator.TokensY, generator.TokensX));
            generator.LoadState(state);
            return generator;
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>The first stage's quantized latent [1, embed_dim, h, w] of codes in GPT order (taming's <c>get_codebook_entry</c>).</summary>
    public Tensor CodesToLatent(IReadOnlyList<long> codes, int gridHeight, int gridWidth)
    {
        ArgumentNullException.ThrowIfNull(codes);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var idx = tensor(codes.ToArray(), new long[] { 1, codes.Count }).to(Model.FirstStage.Device);
        var raster = Model.Permuter.Forward(idx, reverse: true).reshape(-1);
        var bhwc = new long[] { 1, gridHeight, gridWidth, Model.FirstStage.Config.EmbedDim };
        return Model.FirstStage.Quantizer.GetCodebookEntry(raster, bhwc).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Token grids [B, h*w] (GPT order) to pictures [B, 3, H, W] in [0, 1] through the first stage.</summary>
    public Tensor Decode(Tensor codes, int gridHeight, int gridWidth)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // held scalars: an implicit one can be finalized during the call (HeldScalars)
        return Model.DecodeToImage(codes, gridHeight, gridWidth).add(HeldScalars.One).div(HeldScalars.Two).clamp(HeldScalars.Zero, HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Pictures [B, 3, H, W] in [0, 1] of a sampling report's <see cref="TransformerProgress.Tokens"/>: the tokens so far
    /// [B, t] with the rest of the grid at code 0, or a whole grid [B, h, w] (sliding window). Made to be called from the
    /// progress callback, which runs inside the sampler's per-step dispose scope: the result belongs to no dispose
    /// scope, the caller owns it and disposes it.
    /// </summary>
    public Tensor DecodePartial(Tensor tokens, int gridHeight, int gridWidth)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long batch = tokens.shape[0], total = (long)gridHeight * gridWidth;
        var flat = tokens.reshape(batch, -1);
        if (flat.shape[1] > total)
            throw new ArgumentException($"{flat.shape[1]} tokens are more than the {gridHeight}x{gridWidth} grid holds.", nameof(tokens));
        if (flat.shape[1] < total)
            flat = cat(new[] { flat.to(ScalarType.Int64), zeros(new[] { batch, total - flat.shape[1] }, ScalarType.Int64, flat.device) }, 1);
        return Decode(flat, gridHeight, gridWidth).DetachFromDisposeScope();
    }

    /// <summary>
    /// The loss of a picture [1, 3, H, W] in [0, 1] against <paramref name="script"/>'s first phase and
    /// <paramref name="extraPrompts"/>, measured as the ranking measures samples (same fixed cutouts for the same
    /// settings and seed). For notebooks: score any picture on the scale of the candidates' losses.
    /// </summary>
    public (double Loss, IReadOnlyList<PromptLoss> Prompts) Measure(Tensor image01, PromptScript script, IEnumerable<PromptSpec>? extraPrompts = null,
        TransformerSettings? settings = null, GuidanceOptions? guidance = null, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(image01);
        ArgumentNullException.ThrowIfNull(script);
        settings ??= TransformerSettings.Default;
        var cutouts = RankingCutouts(guidance ?? GuidanceOptions.Default, settings.RankingCutouts);
        var grid = new TransformerGrid((int)image01.shape[^1], (int)image01.shape[^2], 0, 0, null);
        var prompts = EncodePrompts(script.Phases[0].Concat(extraPrompts ?? []), cutouts, seed, grid);
        try
        {
            return Score(image01, prompts, cutouts, settings.RankingSeed);
        }
        finally
        {
            foreach (var p in prompts) p.Dispose();
        }
    }

    /// <summary>
    /// The conditioning of a run on <paramref name="script"/> (see the class summary), without sampling: for a
    /// class-conditional model without <see cref="TransformerSettings.ClassId"/>, the class CLIP chooses.
    /// </summary>
    public TransformerConditioning ChooseConditioning(PromptScript script, TransformerSettings? settings = null, IEnumerable<PromptSpec>? extraPrompts = null,
        GuidanceOptions? guidance = null, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(script);
        settings ??= TransformerSettings.Default;
        settings.Validate();
        var cutouts = RankingCutouts(guidance ?? GuidanceOptions.Default, settings.RankingCutouts);
        var (w, h) = DefaultSize;
        var prompts = EncodePrompts(script.Phases[0].Concat(extraPrompts ?? []), cutouts, seed, new TransformerGrid(w, h, 0, 0, null));
        try
        {
            return ChooseConditioning(script, prompts, settings);
        }
        finally
        {
            foreach (var p in prompts) p.Dispose();
        }
    }

    private TransformerConditioning ChooseConditioning(PromptScript script, IReadOnlyList<Prompt> prompts, TransformerSettings settings) =>
        ForStage(Model.CondStage, script, settings, ClassNames, () => ZeroShot(prompts, settings.ClassPromptTemplate), Model.Config.Conditioning.CaptionPlacement);

    /// <summary>The conditioning for a stage (the seam for caption stages: anything implementing <see cref="ITextConditioning"/>).</summary>
    /// <param name="modelPlacement">Where the model draws a one-object caption's thing (its YAML's <c>drawn_at</c>), for <see cref="SamplePlacement.Model"/>.</param>
    internal static TransformerConditioning ForStage(IConditioningStage stage, PromptScript script, TransformerSettings settings, ClassNames? names,
        Func<IReadOnlyList<ClassScore>> zeroShot, CaptionPlacement modelPlacement = CaptionPlacement.AsCaptioned)
    {
        if (settings.GuidanceScale != 1.0 && stage is not ITextConditioning)
            throw new ArgumentException($"GuidanceScale ({settings.GuidanceScale.ToString(CultureInfo.InvariantCulture)}) applies to caption-conditioned transformers, whose empty caption is the unconditional model; this one is {stage.Description}. Leave it at 1.");
        switch (stage)
        {
            case ITextConditioning text:
            {
                if (settings.ClassId is { } id)
                    throw new ArgumentException($"ClassId ({id}) applies to class-conditional transformers; this one is conditioned on captions ({stage.Description}): the prompt's text is its conditioning.");
                var caption = FirstPositiveText(script)
                    ?? throw new ArgumentException("A caption-conditioned transformer draws what a text prompt says: give a text prompt with a positive weight (the prompts have none).");
                var regions = settings.Regional ? RegionalCaptions.Split(caption) : null;
                bool inMiddle = settings.Placement switch
                {
                    SamplePlacement.Move => true,
                    SamplePlacement.Caption => false,
                    _ => modelPlacement == CaptionPlacement.Middle,
                };
                // a caption sampled whole is asked for the middle; one split in halves keeps its words (its halves are
                // asked), and halves joined in token space cannot be moved, so they are asked as written
                if (regions is not null && settings.RegionalJoin != RegionalJoin.Pictures) inMiddle = false;
                string asked = inMiddle && regions is null ? CaptionLayout.InTheMiddle(caption) : caption;
                return new TransformerConditioning
                {
                    Kind = TransformerConditioningKind.Caption,
                    Tokens = Encode(text, asked, stage.Description),
                    UnconditionalTokens = Empty(text),
                    Caption = caption,
                    DrawnInMiddle = inMiddle,
                    AskedCaption = asked == caption ? null : asked,
                    UnknownWords = text.UnknownWords(caption),
                    Regions = regions,
                    RegionTokens = regions?.Captions.Select(c => (IReadOnlyList<long>)Encode(text, inMiddle ? CaptionLayout.InTheMiddle(c) : c, stage.Description)).ToList(),
                };
            }
            case Labelator labels:
            {
                if (settings.ClassId is { } id)
                {
                    if (id >= labels.NClasses)
                        throw new ArgumentException($"ClassId {id} is outside the model's classes: it knows {labels.NClasses} (ids 0 to {labels.NClasses - 1}).");
                    return new TransformerConditioning
                    {
                        Kind = TransformerConditioningKind.Class, Tokens = [id], ClassId = id, ClassName = names?[id], ClassChosenByClip = false,
                    };
                }
                var scores = zeroShot();
                var best = scores[0];
                return new TransformerConditioning
                {
                    Kind = TransformerConditioningKind.Class, Tokens = [best.ClassId], ClassId = best.ClassId, ClassName = best.Name,
                    ClassChosenByClip = true, ClassScores = scores.Take(5).ToList(),
                };
            }
            case SosProvider sos:
                if (settings.ClassId is { } given)
                    throw new ArgumentException($"ClassId ({given}) applies to class-conditional transformers; this one is unconditional ({stage.Description}).");
                return new TransformerConditioning { Kind = TransformerConditioningKind.Unconditional, Tokens = [sos.SosToken] };
            default:
                throw new NotSupportedException($"The transformer's conditioning is {stage.Description}: text to picture works with unconditional, class-conditional and caption-conditioned transformers.");
        }
    }

    /// <summary>One caption's conditioning tokens, checked to be the one row ITextConditioning promises.</summary>
    private static long[] Encode(ITextConditioning text, string caption, string description)
    {
        using var tokens = text.EncodeText(new[] { caption });
        if (tokens.dim() != 2 || tokens.shape[0] != 1 || tokens.dtype != ScalarType.Int64)
            throw new InvalidOperationException($"The caption stage {description} returned {tokens.dtype} [{string.Join(", ", tokens.shape)}] for one caption; ITextConditioning.EncodeText must return int64 [1, L].");
        return tokens.cpu().data<long>().ToArray();
    }

    /// <summary>The caption stage's tokens of the empty caption (all padding), as training's caption dropout wrote them.</summary>
    private static long[] Empty(ITextConditioning text)
    {
        using var tokens = text.EncodeText(new[] { "" });
        return tokens.cpu().data<long>().ToArray();
    }

    /// <summary>The text of the first text prompt with a positive weight in the first phase (a text naming an image file is an image prompt), or null.</summary>
    public static string? FirstPositiveText(PromptScript script)
    {
        ArgumentNullException.ThrowIfNull(script);
        return script.Phases[0].Select(PromptEncoder.Resolve).FirstOrDefault(p => p.Source == PromptSource.Text && p.Weight > 0)?.Text;
    }

    /// <summary>
    /// CLIP's zero-shot choice of a class: every class name, written with <paramref name="template"/>, through the text
    /// tower; its score is the prompts' loss of that embedding (the loop's weighted spherical distance: text prompts
    /// compare text with text, image prompts image with text; negative prompts push away; noise prompts say nothing of a
    /// class and are left out). Every class, best (lowest) first.
    /// </summary>
    /// <exception cref="ArgumentException">The model is not class-conditional, its classes have no names, or no text or image prompt is given.</exception>
    public IReadOnlyList<ClassScore> ZeroShot(IReadOnlyList<Prompt> prompts, string? template = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(prompts);
        template ??= TransformerSettings.Default.ClassPromptTemplate;
        if (Model.CondStage is not Labelator labels)
            throw new ArgumentException($"Only a class-conditional transformer has classes to choose; this one's conditioning is {Model.CondStage.Description}.");
        var names = ClassNames ?? throw new ArgumentException(
            $"The transformer is class-conditional ({labels.NClasses} classes) but its classes have no names, so CLIP cannot choose one: set ClassId, " +
            $"or give the class names (a text file, one name a line, line 1 for class 0; a file '<checkpoint>{ClassNames.Extension}' beside the checkpoint is read by itself).");
        if (!_zeroShots.TryGetValue(template, out var zeroShot))
            _zeroShots[template] = zeroShot = new ClassZeroShot(Clip, names, template);
        return zeroShot.Rank(prompts);
    }

    /// <summary>Samples every candidate's grid; codes row-major in GPT order.</summary>
    private List<long[]> SampleCodes(TransformerConditioning conditioning, TransformerGrid grid, TransformerSettings s, long seed,
        Action<TransformerProgress>? onProgress, CancellationToken ct)
    {
        var device = Model.Device;
        using var generator = new Generator((ulong)seed, device);
        var options = s.ToSamplingOptions(generator);
        int tokens = grid.Tokens, batches = (s.Samples + s.BatchSize - 1) / s.BatchSize;
        var codes = new List<long[]>(s.Samples);
        for (int b = 0; b < batches; b++)
        {
            ct.ThrowIfCancellationRequested();
            int first = b * s.BatchSize, n = Math.Min(s.BatchSize, s.Samples - first);
            using var scope = NewDisposeScope();
            var c = tensor(conditioning.Tokens.ToArray(), ScalarType.Int64).to(device).view(1, -1).expand(n, -1).contiguous();
            var u = options.Guided
                ? tensor(conditioning.UnconditionalTokens!.ToArray(), ScalarType.Int64).to(device).view(1, -1).expand(n, -1).contiguous()
                : null;
            TransformerProgress Report(int completed, int row, bool endOfRow, Tensor t) => new()
            {
                Stage = TransformerStage.Sampling, Completed = completed, Total = tokens, Batch = b, Batches = batches,
                BatchSamples = n, FirstSample = first, Row = row, EndOfRow = endOfRow, Tokens = t,
                GridHeight = grid.GridHeight, GridWidth = grid.GridWidth,
            };
            Tensor sampled;
            if (grid.Window is int window)
            {
                var start = zeros(new long[] { n, grid.GridHeight, grid.GridWidth }, ScalarType.Int64, device);
                sampled = Model.SampleSlidingWindow(start, c, options, window, (step, idx) =>
                {
                    ct.ThrowIfCancellationRequested();
                    onProgress?.Invoke(Report(step.I * grid.GridWidth + step.J + 1, step.I, step.J == grid.GridWidth - 1, idx));
                });
            }
            else
            {
                sampled = Model.Sample(c, tokens, options, useCache: s.UseCache, onStep: (k, t) =>
                {
                    ct.ThrowIfCancellationRequested();
                    onProgress?.Invoke(Report(k + 1, k / grid.GridWidth, (k + 1) % grid.GridWidth == 0, t));
                }, unconditional: u);
            }
            var flat = sampled.reshape(n, tokens).cpu().data<long>().ToArray();
            for (int i = 0; i < n; i++) codes.Add(flat[(i * tokens)..((i + 1) * tokens)]);
        }
        return codes;
    }

    /// <summary>The fixed cutouts the samples are measured on: the run's cut method, power and augmentations, <paramref name="count"/> of them.</summary>
    private ICutouts RankingCutouts(GuidanceOptions options, int count) => options.CreateCutouts(Clip.ImageSize, count);

    private List<Prompt> EncodePrompts(IEnumerable<PromptSpec> specs, ICutouts cutouts, long seed, TransformerGrid grid)
    {
        var encoder = new PromptEncoder(Clip);
        using var rng = new Generator((ulong)seed);
        var prompts = new List<Prompt>();
        try
        {
            foreach (var spec in specs) prompts.Add(encoder.Encode(spec, cutouts, rng, grid.Width, grid.Height));
            return prompts;
        }
        catch
        {
            foreach (var p in prompts) p.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The prompt loss of a picture [1, 3, H, W] in [0, 1] on the cutouts drawn from a generator seeded with
    /// <paramref name="seed"/>: the same boxes and augmentations for every picture of the same size, as
    /// <see cref="GuidedRun.Evaluate"/> measures (each distinct cutout encoded once, which changes no value).
    /// </summary>
    private (double Loss, IReadOnlyList<PromptLoss> Prompts) Score(Tensor image01, IReadOnlyList<Prompt> prompts, ICutouts cutouts, long seed)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var rng = new Generator((ulong)seed);
        var cuts = cutouts.Cut(image01.to(Clip.Device), rng);
        var embeds = DistinctCutouts.Encode(cuts, c => Clip.EncodeImage(Clip.Normalize(c))).to_type(ScalarType.Float32);
        var values = stack(prompts.Select(p => p.Loss(embeds)).ToArray()).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        var perPrompt = prompts.Select((p, i) => new PromptLoss(i, p.Label, values[i])).ToList();
        return (perPrompt.Sum(p => p.Value), perPrompt);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var z in _zeroShots.Values) z.Dispose();
        _zeroShots.Clear();
    }
}
