using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Guidance.Optimization;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;

namespace VqganClip.Guidance.StyleClip;

/// <summary>One step's numbers: the rate used, and the losses before the step (upstream's <c>loss</c> is the total).</summary>
public sealed record StyleClipStep(int Step, double LearningRate, double Loss, double ClipLoss, double L2Loss, IReadOnlyDictionary<string, double> Extra);

/// <summary>
/// StyleCLIP's latent optimisation as <c>run_optimization.main</c> runs it, step for step: the start's picture
/// (<c>img_orig</c>, fixed noise), the latent (W+, or the StyleSpace vectors but the ToRGB ones) optimised by Adam
/// with the lr of <see cref="StyleClipSchedule"/> (0 at step 0), the loss <c>CLIP + l2_lambda·Σ(latent − start)²</c>
/// in edit mode (CLIP alone in free generation) plus any <see cref="StyleClipSettings.ExtraTerms"/>; renders with the
/// noise buffers. The guidance engine's <c>stylegan</c> generator runs the same loop through GuidedRun; this class is
/// the reference (fixture parity, the benchmark, notebooks).
/// </summary>
public sealed class StyleClipOptimization : IDisposable
{
    private readonly StyleGan2Model _model;
    private readonly StyleClipLoss _clipLoss;
    private readonly List<Tensor> _start;        // the latent's starting value(s), no grad
    private readonly List<Parameter> _latent;    // what the picture is drawn from (W+: one tensor; StyleSpace: all vectors)
    private readonly List<Parameter> _trained;   // what Adam changes
    private readonly optim.Optimizer _adam;
    private readonly List<StyleClipStep> _history = new();
    private Tensor? _lastImage;                  // the last step's picture, drawn before its update (upstream's img_gen)

    /// <param name="latentInit">The W+ start [1, n_latent, style_dim] (<see cref="EditStart"/> / <see cref="FreeStart"/> or a file's).</param>
    public StyleClipOptimization(StyleGan2Model model, StyleClipLoss clipLoss, Tensor latentInit, StyleClipSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(clipLoss);
        ArgumentNullException.ThrowIfNull(latentInit);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _model = model;
        _clipLoss = clipLoss;
        Settings = settings;
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            ImageOrig = model.Synthesize(latentInit, StyleGan2Noise.Fixed).MoveToOuterDisposeScope().DetachFromDisposeScope();
            var starts = settings.WorkInStyleSpace ? model.StyleSpace(latentInit).ToList() : [latentInit];
            _start = starts.Select(s => s.detach().clone().DetachFromDisposeScope()).ToList();
        }
        _latent = new List<Parameter>();
        _trained = new List<Parameter>();
        for (int i = 0; i < _start.Count; i++)
        {
            bool trained = !settings.WorkInStyleSpace || !StyleGan2Model.IsToRgbStyle(i);
            var p = new Parameter(_start[i].clone(), requires_grad: trained);
            p.DetachFromDisposeScope();
            _latent.Add(p);
            if (trained) _trained.Add(p);
        }
        _adam = optim.Adam(_trained, settings.LearningRate);
    }

    public StyleClipSettings Settings { get; }

    /// <summary>The start's picture (upstream's <c>img_orig</c>) [1, 3, S, S].</summary>
    public Tensor ImageOrig { get; }

    /// <summary>The latent being optimised: W+ [1, n_latent, style_dim] (one entry), or the StyleSpace vectors.</summary>
    public IReadOnlyList<Parameter> Latent => _latent;

    public int StepCount { get; private set; }

    public IReadOnlyList<StyleClipStep> History => _history;

    /// <summary>
    /// Edit mode's start without a latent file (upstream): the mean latent of 4096 z, then z [1, style_dim], both drawn
    /// from <paramref name="rng"/> in that order; w(z) truncated towards the mean by <paramref name="truncation"/>, as W+.
    /// </summary>
    public static Tensor EditStart(StyleGan2Model model, Generator rng, double truncation = 0.7)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var mean = model.MeanLatent(4096, rng);
        var z = randn(new long[] { 1, model.StyleDim }, generator: rng, device: model.Device);
        var w = StyleGan2Model.Truncate(model.Map(z), mean, truncation);
        return model.ToWPlus(w).MoveToOuterDisposeScope();
    }

    /// <summary>Free generation's start: the mean latent (4096 z from <paramref name="rng"/>) in every W+ row.</summary>
    public static Tensor FreeStart(StyleGan2Model model, Generator rng)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.ToWPlus(model.MeanLatent(4096, rng)).MoveToOuterDisposeScope();
    }

    /// <summary>The picture of the current latent [1, 3, S, S] (fixed noise), differentiable.</summary>
    public Tensor Render() => Settings.WorkInStyleSpace
        ? _model.SynthesizeFromStyles(_latent.Cast<Tensor>().ToList(), StyleGan2Noise.Fixed)
        : _model.Synthesize(_latent[0], StyleGan2Noise.Fixed);

    /// <summary>Σ(latent − start)² over every entry (upstream's l2_loss; ToRGB vectors included, they do not move).</summary>
    public Tensor L2()
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (int i = 0; i < _latent.Count; i++)
        {
            var term = (_start[i] - _latent[i]).pow(2).sum();
            sum = sum is null ? term : sum + term;
        }
        return sum!.MoveToOuterDisposeScope();
    }

    /// <summary>One step of upstream's loop; returns its numbers (losses before the step).</summary>
    public StyleClipStep Step()
    {
        using var scope = NewDisposeScope();
        int i = StepCount;
        double lr = StyleClipSchedule.GetLr(i / (double)Settings.Steps, Settings.LearningRate);
        OptimizerFactory.SetLearningRate(_adam, lr);

        var image = Render();
        var clip = _clipLoss.Compute(image).sum();
        var loss = clip;
        Tensor? l2 = null;
        var extra = new Dictionary<string, double>();
        if (Settings.Mode == StyleClipMode.Edit)
        {
            l2 = L2();
            loss = loss + Settings.L2Lambda * l2;
            foreach (var term in Settings.ExtraTerms)
            {
                if (term.Weight == 0) continue;   // upstream: i_loss = 0 when id_lambda is 0
                var value = term.Loss(image, ImageOrig);
                extra[term.Name] = value.detach().to(ScalarType.Float64).item<double>();
                loss = loss + term.Weight * value;
            }
        }
        _lastImage?.Dispose();
        _lastImage = image.detach().clone().DetachFromDisposeScope();
        _adam.zero_grad();
        loss.backward();
        _adam.step();
        StepCount = i + 1;
        var record = new StyleClipStep(i, lr, loss.detach().to(ScalarType.Float64).item<double>(), clip.detach().to(ScalarType.Float64).item<double>(),
            l2 is null ? 0 : l2.detach().to(ScalarType.Float64).item<double>(), extra);
        _history.Add(record);
        return record;
    }

    /// <summary>Runs the remaining steps.</summary>
    public void Run(Action<StyleClipStep>? onStep = null)
    {
        while (StepCount < Settings.Steps)
        {
            var step = Step();
            onStep?.Invoke(step);
        }
    }

    /// <summary>
    /// upstream's return value: cat([img_orig, img_gen]) in edit mode, img_gen in free generation, where img_gen is the
    /// last step's picture, drawn before that step's update (as upstream's loop leaves it); before any step, the start's.
    /// </summary>
    public Tensor Result()
    {
        using var scope = NewDisposeScope();
        var image = _lastImage ?? ImageOrig;
        return (Settings.Mode == StyleClipMode.Edit ? cat([ImageOrig, image], 0) : image.clone()).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _adam.Dispose();
        _lastImage?.Dispose();
        foreach (var p in _latent) p.Dispose();
        foreach (var s in _start) s.Dispose();
        ImageOrig.Dispose();
    }
}
