using System.Diagnostics;
using TorchSharp;
using VqganClip.Guidance.BigSleep;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Losses;
using VqganClip.Guidance.Optimization;
using VqganClip.Guidance.Prompts;
using VqganClip.Guidance.Running;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Guidance;

/// <summary>
/// A CLIP-guided optimisation you can step: each step renders the generator's picture, cuts it into random
/// cutouts, encodes them with CLIP, measures the spherical distance to every active prompt (plus any regularisers),
/// back-propagates through CLIP and the generator into the generator's parameters, and lets the optimizer step.
/// All randomness (generator init, cutouts, augmentations, image-prompt cutouts) comes from one torch generator
/// seeded by <see cref="GuidanceOptions.Seed"/>, so the same seed and settings give the same picture, and a run
/// saved with <see cref="Save"/> and continued with <see cref="Resume"/> gives exactly what an uninterrupted one does.
/// Owns the generator, prompts, optimizer and cutouts; not the CLIP model.
/// </summary>
public sealed partial class GuidedRun : IDisposable
{
    private readonly ClipModel _clip;
    private readonly Generator _rng;
    private readonly optim.Optimizer _optimizer;
    private readonly ISchedule _schedule;
    private readonly List<Prompt> _prompts;
    private readonly int[][] _phasePrompts;      // per phase: indices into _prompts that are active
    private readonly List<IRegularizer> _regularizers;
    private readonly PerceptualTerms? _perceptual;   // the ResNet18 of the style/feature terms, when the options ask for them
    private readonly List<LossRecord> _history = new();
    private readonly List<RenderedImage> _snapshots = new();
    private readonly int _scriptPromptCount;
    private readonly double _logitScale;     // exp(logit_scale), for StyleCLIP's prompt loss
    private Tensor? _pixelMean, _pixelStd;   // CLIP's normalisation constants, made on first use (NormalizeForClip)
    private bool _disposed;

    /// <summary>Starts a run from a prompt string (see <see cref="PromptParser"/> for the syntax).</summary>
    public static GuidedRun Create(IImageGenerator generator, ClipModel clip, string prompts, GuidanceOptions? options = null,
        IEnumerable<PromptSpec>? extraPrompts = null) =>
        new(generator, clip, PromptParser.Parse(prompts), options, extraPrompts);

    /// <param name="generator">What makes the picture; owned by the run from now on. Initialised from the run's seed unless it already is.</param>
    /// <param name="clip">The CLIP model (frozen; not owned).</param>
    /// <param name="script">Prompts, in story phases.</param>
    /// <param name="options">Settings (defaults when null).</param>
    /// <param name="extraPrompts">Prompts active in every phase (image prompts, noise prompts...).</param>
    /// <param name="regularizers">Extra loss terms beyond those in <paramref name="options"/>; owned by the run.</param>
    /// <param name="audio">The AudioCLIP audio head that encodes audio prompts (not owned); needed only when there are some.</param>
    public GuidedRun(IImageGenerator generator, ClipModel clip, PromptScript script, GuidanceOptions? options = null,
        IEnumerable<PromptSpec>? extraPrompts = null, IEnumerable<IRegularizer>? regularizers = null, AudioClipModel? audio = null)
        : this(generator, clip, script, options ?? GuidanceOptions.Default, extraPrompts?.ToList() ?? new List<PromptSpec>(), regularizers, saved: null, audio)
    {
    }

    private GuidedRun(IImageGenerator generator, ClipModel clip, PromptScript script, GuidanceOptions options,
        List<PromptSpec> extraPrompts, IEnumerable<IRegularizer>? regularizers, SavedRun? saved, AudioClipModel? audio = null)
    {
        TorchRuntime.EnsureInitialized();
        options.Validate();
        _perceptual = PerceptualTerms.Create(options);   // first: a missing picture fails before anything is allocated
        Generator = generator;
        _clip = clip;
        _logitScale = clip.LogitScale;
        Script = script;
        Options = options;
        ExtraPrompts = extraPrompts;
        _rng = TorchRuntime.Seed(options.Seed);
        _schedule = options.CustomSchedule ?? Schedules.Parse(options.Schedule);
        Cutouts = options.CreateCutouts(clip.ImageSize);

        if (saved is null && !generator.IsInitialized) generator.Initialize(_rng);

        // Prompts: every phase's prompts, then the extras; phases index into the one list.
        var encoder = new PromptEncoder(clip, audio);
        var specs = script.All.Concat(extraPrompts).ToList();
        _scriptPromptCount = script.All.Count();
        _prompts = new List<Prompt>(specs.Count);
        for (int i = 0; i < specs.Count; i++)
        {
            var saveEmbedding = saved?.PromptEmbedding(i);
            _prompts.Add(saveEmbedding is not null
                ? Prompt.FromNormalized(PromptEncoder.Resolve(specs[i]), saveEmbedding)
                : encoder.Encode(specs[i], Cutouts, _rng, generator.Width, generator.Height));
        }
        var extras = Enumerable.Range(_scriptPromptCount, extraPrompts.Count).ToArray();
        int offset = 0;
        _phasePrompts = script.Phases.Select(phase =>
        {
            var idx = Enumerable.Range(offset, phase.Count).Concat(extras).ToArray();
            offset += phase.Count;
            return idx;
        }).ToArray();

        _optimizer = OptimizerFactory.Create(options.Optimizer, generator.Parameters, options.LearningRate);

        _regularizers = new List<IRegularizer>();
        if (options.TotalVariationWeight > 0) _regularizers.Add(new TotalVariationLoss(options.TotalVariationWeight));
        if (options.InitWeight > 0) _regularizers.Add(new InitAnchorLoss(options.InitWeight, options.InitWeightDecay, options.InitAnchorSpace));
        if (_perceptual is not null) _regularizers.AddRange(_perceptual.Terms);
        if (regularizers is not null) _regularizers.AddRange(regularizers);
        _regularizers.AddRange(generator.CreateOwnLosses());
        if (saved is null && _regularizers.Count > 0)
        {
            using var _ = no_grad();
            using var first = generator.Render();
            foreach (var r in _regularizers) r.Start(generator, first);
        }

        if (saved is not null) saved.Restore(this);
    }

    /// <summary>The generator being optimised.</summary>
    public IImageGenerator Generator { get; }

    /// <summary>The prompt script (story phases) of this run.</summary>
    public PromptScript Script { get; }

    /// <summary>Prompts active in every phase, besides the script's.</summary>
    public IReadOnlyList<PromptSpec> ExtraPrompts { get; }

    public GuidanceOptions Options { get; }

    /// <summary>The cutout maker in use.</summary>
    public ICutouts Cutouts { get; }

    /// <summary>Every encoded prompt (all phases, then the extras), with its normalised target embedding.</summary>
    public IReadOnlyList<Prompt> Prompts => _prompts;

    /// <summary>The prompts that guide at <paramref name="step"/> (its phase's and the extras).</summary>
    public IReadOnlyList<Prompt> PromptsAt(int step) =>
        _phasePrompts[Script.PhaseAt(step, Options.PhaseSteps)].Select(i => _prompts[i]).ToList();

    /// <summary>The CLIP that guides (the caller's; not owned by the run).</summary>
    public ClipModel Clip => _clip;

    /// <summary>The prompt embeddings [rows, dim] in the order of <see cref="Prompts"/> (the run's own tensors: don't dispose).</summary>
    public IReadOnlyList<Tensor> PromptEmbeddings => _prompts.Select(p => p.Embedding).ToList();

    /// <summary>The regularisers in use (their names key <see cref="LossRecord.Regularizers"/>).</summary>
    public IReadOnlyList<IRegularizer> Regularizers => _regularizers;

    /// <summary>Optimizer steps taken so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>Steps whose loss or gradient was not finite and whose update was therefore skipped (normally 0).</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>Loss records every <see cref="GuidanceOptions.LossReadbackEvery"/> steps (step 0 first).</summary>
    public IReadOnlyList<LossRecord> History => _history;

    /// <summary>Pictures kept every <see cref="GuidanceOptions.SnapshotEvery"/> steps (not saved with the run).</summary>
    public IReadOnlyList<RenderedImage> Snapshots => _snapshots;

    /// <summary>The phase active at the next step.</summary>
    public int CurrentPhase => Script.PhaseAt(StepCount, Options.PhaseSteps);

    /// <summary>The learning rate the next step will use.</summary>
    public double CurrentLearningRate => _schedule.LearningRate(StepCount, Options.LearningRate);

    /// <summary>
    /// Takes <paramref name="n"/> steps. Every <paramref name="every"/> steps (and after the last) a report with the
    /// losses and picture goes to <paramref name="onUpdate"/> (called synchronously) and <paramref name="progress"/>.
    /// Cancellation is checked between steps: the run stops cleanly after the step in flight and the returned report
    /// says <see cref="StepReport.Cancelled"/>. Returns the last report.
    /// </summary>
    public StepReport Step(int n = 1, IProgress<StepReport>? progress = null, CancellationToken ct = default, int every = 1,
        Action<StepReport>? onUpdate = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), "Number of steps must be 0 or more.");
        if (every <= 0) throw new ArgumentOutOfRangeException(nameof(every), "Report interval must be at least 1.");
        var clock = Stopwatch.StartNew();
        var last = new StepReport { Target = n, TotalSteps = StepCount };
        bool listening = progress is not null || onUpdate is not null;
        for (int k = 0; k < n; k++)
        {
            if (ct.IsCancellationRequested) return last with { Cancelled = true };
            bool report = k == n - 1 || (listening && (k + 1) % every == 0);
            var start = clock.Elapsed;
            var (record, image) = StepOnce(wantReport: report);
            last = new StepReport
            {
                Loss = record,
                Completed = k + 1,
                Target = n,
                TotalSteps = StepCount,
                StepSeconds = (clock.Elapsed - start).TotalSeconds,
                ElapsedSeconds = clock.Elapsed.TotalSeconds,
                Image = image,
            };
            if (report)
            {
                onUpdate?.Invoke(last);
                progress?.Report(last);
            }
        }
        return last;
    }

    private (LossRecord? Record, RenderedImage? Image) StepOnce(bool wantReport)
    {
        using var scope = NewDisposeScope();
        int step = StepCount;
        double lr = _schedule.LearningRate(step, Options.LearningRate);
        OptimizerFactory.SetLearningRate(_optimizer, lr);
        _optimizer.zero_grad();

        var image = Generator.Render();
        var cuts = Cutouts.Cut(image, _rng);
        // each distinct cutout once: a picture no larger than CLIP's input makes every original cutout the whole picture
        var embeds = DistinctCutouts.Encode(cuts, c => _clip.EncodeImage(Cutouts.OutputsClipInput ? c : NormalizeForClip(c)));
        if (embeds.dtype != ScalarType.Float32) embeds = embeds.to_type(ScalarType.Float32);

        int phase = Script.PhaseAt(step, Options.PhaseSteps);
        var active = _phasePrompts[phase];
        var terms = new List<Tensor>(active.Length + _regularizers.Count);
        foreach (var i in active) terms.Add(_prompts[i].Loss(embeds, Options.PromptLoss, _logitScale));
        var context = new LossContext(image, Generator, step);
        var regNames = new List<string>();
        foreach (var r in _regularizers)
        {
            var t = r.Compute(context);
            if (t is null) continue;
            terms.Add(t);
            regNames.Add(r.Name);
        }
        // one term (the classic loop's one prompt) is its own total: the sum of one value is that value, bit for bit
        var stacked = terms.Count == 1 ? null : stack(terms);
        var total = stacked is null ? terms[0] : stacked.sum();

        LossRecord? record = null;
        bool keepInHistory = step % Options.LossReadbackEvery == 0;
        if (wantReport || keepInHistory)
        {
            // one read back for the terms and the total
            var all = stacked is null ? total.detach().reshape(1) : cat(new[] { stacked.detach(), total.detach().reshape(1) });
            var read = all.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            var values = stacked is null ? read : read[..^1];
            double totalValue = read[^1];
            var prompts = active.Select((pi, j) => new PromptLoss(pi, _prompts[pi].Label, values[j])).ToList();
            var regs = new Dictionary<string, double>();
            for (int j = 0; j < regNames.Count; j++) regs[regNames[j]] = values[active.Length + j];
            record = new LossRecord(step, totalValue, prompts, regs, lr, phase);
            if (keepInHistory) _history.Add(record);
        }
        bool snapshot = Options.SnapshotEvery > 0 && step % Options.SnapshotEvery == 0;
        // a generator that keeps an average of its parameters (Big Sleep's EMA) shows and saves that average's picture
        var shown = snapshot || wantReport ? ShownImage(image) : image;
        if (snapshot) _snapshots.Add(RenderedImage.FromTensor(shown, step));
        var reportImage = wantReport ? RenderedImage.FromTensor(shown, step) : null;

        total.backward();
        // A non-finite loss or gradient (an overflow in some cutout) would turn the parameters into NaN for good
        // through the optimizer's moments; such a step is skipped, the picture kept, and the skip counted.
        if (AllFinite(total, Generator.Parameters))
        {
            _optimizer.step();
            using (no_grad()) Generator.PostStep();
        }
        else
        {
            SkippedSteps++;
        }
        StepCount = step + 1;
        return (record, reportImage);
    }

    /// <summary>The picture to show for a step whose optimised picture is <paramref name="image"/>: the generator's display render, if it has one.</summary>
    private Tensor ShownImage(Tensor image)
    {
        using var _ = no_grad();
        return Generator.RenderForDisplay() ?? image;
    }

    /// <summary>Whether the step's loss and every parameter's gradient are finite (one read back for all of them).</summary>
    private static bool AllFinite(Tensor loss, IEnumerable<Tensor> parameters)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var finite = loss.isfinite().all();
        foreach (var p in parameters)
            if (p.grad is { } g) finite = finite.logical_and(g.isfinite().all());
        return finite.item<bool>();
    }

    /// <summary>
    /// CLIP's input normalisation, <c>(pixels − mean) / std</c> exactly as <see cref="ClipModel.Normalize"/> computes it,
    /// with the mean and std tensors made once per run instead of every step.
    /// </summary>
    internal Tensor NormalizeForClip(Tensor pixels01)
    {
        if (pixels01.dim() != 4 || pixels01.shape[1] != 3) return _clip.Normalize(pixels01);   // its checks and messages
        if (_pixelMean is null || _pixelMean.dtype != pixels01.dtype || _pixelMean.device_type != pixels01.device_type
            || _pixelMean.device_index != pixels01.device_index)
        {
            _pixelMean?.Dispose();
            _pixelStd?.Dispose();
            using var _ = no_grad();
            _pixelMean = tensor(ClipModel.PixelMean, dtype: pixels01.dtype, device: pixels01.device).view(3, 1, 1).DetachFromDisposeScope();
            _pixelStd = tensor(ClipModel.PixelStd, dtype: pixels01.dtype, device: pixels01.device).view(3, 1, 1).DetachFromDisposeScope();
        }
        return (pixels01 - _pixelMean) / _pixelStd!;
    }

    /// <summary>
    /// The losses of the current picture measured without gradient on a fixed set of cutouts (drawn from their own
    /// generator seeded with <paramref name="seed"/>), so two evaluations at different steps compare the pictures
    /// rather than the cutout luck. Does not disturb the run. <paramref name="cutCount"/> 0 means the run's count.
    /// </summary>
    public LossRecord Evaluate(int cutCount = 0, long seed = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var rng = new Generator((ulong)seed);
        int n = cutCount > 0 ? cutCount : Cutouts.Count;
        var cutouts = Cutouts.WithCount(n);
        var image = Generator.RenderForDisplay() ?? Generator.Render();
        var cut = cutouts.Cut(image, rng);
        var embeds = _clip.EncodeImage(cutouts.OutputsClipInput ? cut : _clip.Normalize(cut)).to_type(ScalarType.Float32);
        int step = StepCount, phase = Script.PhaseAt(step, Options.PhaseSteps);
        var prompts = new List<PromptLoss>();
        foreach (var i in _phasePrompts[phase])
            prompts.Add(new PromptLoss(i, _prompts[i].Label, _prompts[i].Loss(embeds, Options.PromptLoss, _logitScale).to_type(ScalarType.Float64).item<double>()));
        var regs = new Dictionary<string, double>();
        var context = new LossContext(image, Generator, step);
        foreach (var r in _regularizers)
            if (r.Compute(context) is { } t) regs[r.Name] = t.to_type(ScalarType.Float64).item<double>();
        return new LossRecord(step, prompts.Sum(p => p.Value) + regs.Values.Sum(), prompts, regs, CurrentLearningRate, phase);
    }

    /// <summary>The current picture [1,3,H,W] in [0,1] on the CPU, rendered without gradient. The caller owns it.</summary>
    public Tensor Current()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return (Generator.RenderForDisplay() ?? Generator.Render()).detach().cpu().MoveToOuterDisposeScope();
    }

    /// <summary>The current picture in managed memory (PNG on demand).</summary>
    public RenderedImage CurrentImage()
    {
        using var t = Current();
        return RenderedImage.FromTensor(t, StepCount);
    }

    /// <summary>
    /// A fresh set of cutouts of the current picture [cutn,3,S,S], as CLIP would see them at the next step, for
    /// teaching. Does not disturb the run: the random generator's state is put back afterwards. The caller owns it.
    /// </summary>
    public Tensor CurrentCutouts()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var state = _rng.get_state();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var image = Generator.Render();
            return Cutouts.Cut(image, _rng).detach().cpu().MoveToOuterDisposeScope();
        }
        finally
        {
            _rng.set_state(state);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _prompts) p.Dispose();
        foreach (var r in _regularizers) r.Dispose();
        _perceptual?.Dispose();
        _optimizer.Dispose();
        _pixelMean?.Dispose();
        _pixelStd?.Dispose();
        Generator.Dispose();
        _rng.Dispose();
    }
}
