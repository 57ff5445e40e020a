using System.Globalization;
using TorchSharp;
using VqganClip.Guidance.Losses;
using VqganClip.Guidance.StyleClip;
using VqganClip.Models.IO;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>How the stylegan generator starts (StyleCLIP's modes).</summary>
public enum StyleGanStart
{
    /// <summary>Edit mode from a seed: the run's generator draws the mean latent (4096 z) and one z, truncated towards the mean.</summary>
    Seed,

    /// <summary>Free generation: the mean latent in every W+ row; no L2 anchor.</summary>
    Mean,

    /// <summary>Edit mode from a given W+ code (<c>--latent FILE</c>).</summary>
    Latent,
}

/// <summary>
/// StyleCLIP's latent optimisation as a generator of the guidance engine (name "stylegan"): the parameter is the W+
/// code [1, n_latent, style_dim], or with <see cref="WorkInStyleSpace"/> the StyleSpace vectors but the ToRGB ones
/// ("style.NN"); the picture is (G(latent, fixed noise) + 1) / 2, not clamped (StyleCLIP scores the raw picture).
/// Its own loss (<see cref="CreateOwnLosses"/>) is StyleCLIP's anchor, "l2": l2_lambda·Σ(latent − start)², in the
/// edit modes. With RunRecipe's stylegan defaults (styleclip cutouts, prompt loss and schedule, Adam 0.1) a run is
/// upstream's loop; <see cref="StyleClipOptimization"/> is the reference it is tested against. The frozen
/// StyleGAN2 is the caller's (not owned). An identity loss would be one more <see cref="IRegularizer"/> comparing
/// the picture with <see cref="StartImage"/>.
/// </summary>
public sealed class StyleGanGenerator : ImageGeneratorBase
{
    public const string GeneratorName = "stylegan";

    private readonly StyleGan2Model _model;
    private readonly Tensor? _latentFile;
    private readonly List<(int Index, Parameter Parameter)> _styles = new();
    private readonly Parameter? _wplus;
    private List<Tensor> _start = new();   // starting values: W+ (one) or every StyleSpace vector
    private Tensor? _startImage;

    /// <param name="latent">The W+ start for <see cref="StyleGanStart.Latent"/> ([1, n_latent, style_dim]; copied).</param>
    public StyleGanGenerator(StyleGan2Model model, StyleGanStart start = StyleGanStart.Seed, Tensor? latent = null, double l2Lambda = 0.008,
        bool workInStyleSpace = false, double truncation = 0.7, Device? device = null)
        : base(GeneratorName, model.ImageSize, model.ImageSize, device ?? model.Device)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(l2Lambda >= 0)) throw new ArgumentOutOfRangeException(nameof(l2Lambda), $"The L2 weight must be 0 or more; got {l2Lambda}.");
        if (!(truncation > 0 && truncation <= 1)) throw new ArgumentOutOfRangeException(nameof(truncation), $"The truncation must be in (0, 1]; got {truncation}.");
        if (start == StyleGanStart.Latent && latent is null) throw new ArgumentException("Starting from a latent needs the W+ code.", nameof(latent));
        if (latent is not null && !latent.shape.SequenceEqual(new long[] { 1, model.NLatent, model.StyleDim }))
            throw new ArgumentException($"The W+ start must be [1, {model.NLatent}, {model.StyleDim}]; got [{string.Join(", ", latent.shape)}].", nameof(latent));
        _model = model;
        Start = start;
        L2Lambda = l2Lambda;
        WorkInStyleSpace = workInStyleSpace;
        Truncation = truncation;
        _latentFile = latent?.detach().to(Device).clone().DetachFromDisposeScope();
        if (workInStyleSpace)
        {
            var layers = model.StyleLayers;
            for (int i = 0; i < layers.Count; i++)
                if (!StyleGan2Model.IsToRgbStyle(i))
                    _styles.Add((i, AddParameter($"style.{i:00}", 1, layers[i].InChannel)));
        }
        else
        {
            _wplus = AddParameter("latent", 1, model.NLatent, model.StyleDim);
        }
    }

    public StyleGan2Model Model => _model;
    public StyleGanStart Start { get; }
    public double L2Lambda { get; }
    public bool WorkInStyleSpace { get; }
    public double Truncation { get; }

    /// <summary>Edit modes anchor the latent to its start; free generation does not (upstream: the CLIP loss alone).</summary>
    public bool IsEdit => Start != StyleGanStart.Mean;

    /// <summary>The start's picture [1, 3, S, S] in [0, 1] (upstream's img_orig), once initialised.</summary>
    public Tensor? StartImage => _startImage;

    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["start"] = Start.ToString().ToLowerInvariant(),
        ["l2Lambda"] = L2Lambda.ToString("R", CultureInfo.InvariantCulture),
        ["styleSpace"] = WorkInStyleSpace ? "true" : "false",
        ["truncation"] = Truncation.ToString("R", CultureInfo.InvariantCulture),
    };

    protected override void InitializeCore(Generator rng)
    {
        var wplus = Start switch
        {
            StyleGanStart.Seed => StyleClipOptimization.EditStart(_model, rng, Truncation),
            StyleGanStart.Mean => StyleClipOptimization.FreeStart(_model, rng),
            _ => _latentFile!,
        };
        SetStart(wplus);
    }

    /// <summary>Sets the parameters and the anchor from a W+ start (no grad).</summary>
    private void SetStart(Tensor wplus)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var t in _start) t.Dispose();
        if (WorkInStyleSpace)
        {
            var styles = _model.StyleSpace(wplus);
            _start = styles.Select(s => s.clone().DetachFromDisposeScope()).ToList();
            foreach (var (i, p) in _styles) p.copy_(styles[i]);
        }
        else
        {
            _start = [wplus.clone().DetachFromDisposeScope()];
            _wplus!.copy_(wplus);
        }
        RenderStartImage();
    }

    private void RenderStartImage()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _startImage?.Dispose();
        var image = WorkInStyleSpace ? _model.SynthesizeFromStyles(_start, StyleGan2Noise.Fixed) : _model.Synthesize(_start[0], StyleGan2Noise.Fixed);
        _startImage = ((image + 1) / 2).MoveToOuterDisposeScope().DetachFromDisposeScope();
    }

    /// <summary>The current latent's picture in about [0, 1] (fixed noise), differentiable; not clamped.</summary>
    public override Tensor Render()
    {
        EnsureInitialized();
        using var scope = NewDisposeScope();
        var image = WorkInStyleSpace ? _model.SynthesizeFromStyles(CurrentStyles(), StyleGan2Noise.Fixed) : _model.Synthesize(_wplus!, StyleGan2Noise.Fixed);
        return ((image + 1) / 2).MoveToOuterDisposeScope();
    }

    /// <summary>The StyleSpace vectors: the optimised ones and the ToRGB ones from the start.</summary>
    private List<Tensor> CurrentStyles()
    {
        var styles = new List<Tensor>(_start);
        foreach (var (i, p) in _styles) styles[i] = p;
        return styles;
    }

    /// <summary>Σ(latent − start)² (upstream's l2_loss), differentiable.</summary>
    public Tensor L2Distance()
    {
        EnsureInitialized();
        using var scope = NewDisposeScope();
        Tensor sum = WorkInStyleSpace
            ? stack(_styles.Select(s => (_start[s.Index] - s.Parameter).pow(2).sum()).ToList()).sum()
            : (_start[0] - _wplus!).pow(2).sum();
        return sum.MoveToOuterDisposeScope();
    }

    public override IEnumerable<IRegularizer> CreateOwnLosses() =>
        IsEdit && L2Lambda > 0 ? [new StyleClipL2Loss(this, L2Lambda)] : [];

    protected override void SaveExtraState(StateDict state)
    {
        for (int i = 0; i < _start.Count; i++) state.Add($"start.{i:00}", _start[i].detach().cpu().clone());
    }

    protected override void LoadExtraState(StateDict state)
    {
        int expected = WorkInStyleSpace ? _model.StyleCount : 1;
        var starts = new List<Tensor>();
        for (int i = 0; i < expected; i++)
        {
            if (!state.TryGetValue($"start.{i:00}", out var t))
                throw new InvalidDataException($"The saved stylegan state has no 'start.{i:00}' (the latent's start, needed for the L2 anchor).");
            starts.Add(t.detach().to(Device).clone().DetachFromDisposeScope());
        }
        foreach (var t in _start) t.Dispose();
        _start = starts;
        RenderStartImage();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var t in _start) t.Dispose();
            _startImage?.Dispose();
            _latentFile?.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>StyleCLIP's anchor as a loss term of the engine: l2_lambda·Σ(latent − start)², recorded as "l2".</summary>
public sealed class StyleClipL2Loss(StyleGanGenerator generator, double weight) : IRegularizer
{
    public string Name => "l2";

    public double Weight { get; } = weight;

    public Tensor? Compute(LossContext context)
    {
        using var scope = NewDisposeScope();
        return (generator.L2Distance() * Weight).MoveToOuterDisposeScope();
    }

    public void Dispose() { }
}
