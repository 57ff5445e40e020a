using System.Globalization;
using TorchSharp;
using VqganClip.Guidance.BigSleep;
using VqganClip.Guidance.Losses;
using VqganClip.Models.BigGan;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>
/// BigGAN + CLIP as The Big Sleep draws (lucidrains/big-sleep 0.9.1, <c>big_sleep.py</c>'s <c>Latents</c> and
/// <c>Model</c>): the parameters are one latent row per generator stage, <c>normu</c> [L, z_dim] (row 0 feeds
/// <c>gen_z</c>, row k+1 GenBlock k; <see cref="BigGanModel.ForwardPerBlock"/>) and class logits <c>cls</c>
/// [L, num_classes] whose sigmoid (or, with <see cref="MaxClasses"/>, differentiable top-k) is each row's class vector;
/// the picture is <c>(G(normu, classes, truncation 1) + 1) / 2</c>. The frozen BigGAN is the caller's (not owned).
/// Big Sleep's own losses on the latents' statistics and on the class vectors come with it
/// (<see cref="CreateOwnLosses"/>: "latent" and "class"). With <see cref="EmaDecay"/> an exponential moving average
/// of both parameters is updated after every step and its picture is the one shown and saved (upstream's EMA of the
/// latents), while the optimizer works on the live values.
/// </summary>
public sealed class BigSleepGenerator : ImageGeneratorBase
{
    /// <summary>The name on the command line and in saved runs.</summary>
    public const string GeneratorName = "biggan";

    private readonly BigGanModel _model;
    private readonly Parameter _normu;
    private readonly Parameter _cls;
    private LatentEma? _emaNormu;
    private LatentEma? _emaCls;

    /// <param name="model">The BigGAN (frozen; the caller keeps and disposes it).</param>
    /// <param name="maxClasses">Big Sleep's <c>max_classes</c>: each row's class vector is a differentiable top-k of its logits (null: sigmoid of all).</param>
    /// <param name="emaDecay">Decay of the moving average whose picture is shown (null: none, the live picture is shown).</param>
    public BigSleepGenerator(BigGanModel model, int? maxClasses = null, double? emaDecay = BigSleepDefaults.CliEmaDecay, Device? device = null)
        : base(GeneratorName, CheckModel(model).ImageSize, model.ImageSize, device ?? model.Device)
    {
        if (maxClasses is { } k && (k < 1 || k > model.Config.NumClasses))
            throw new ArgumentOutOfRangeException(nameof(maxClasses), $"max classes must be between 1 and the model's {model.Config.NumClasses} classes; got {k}.");
        if (emaDecay is { } d && !(d >= 0 && d < 1))
            throw new ArgumentOutOfRangeException(nameof(emaDecay), $"The EMA decay must be in [0, 1); got {d}.");
        _model = model;
        MaxClasses = maxClasses;
        EmaDecay = emaDecay;
        _normu = AddParameter("normu", model.NumLatents, model.Config.ZDim);
        _cls = AddParameter("cls", model.NumLatents, model.Config.NumClasses);
    }

    private static BigGanModel CheckModel(BigGanModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model;
    }

    /// <summary>The BigGAN drawing the pictures.</summary>
    public BigGanModel Model => _model;

    /// <summary>Big Sleep's <c>max_classes</c> (null: every class through a sigmoid).</summary>
    public int? MaxClasses { get; }

    /// <summary>The moving average's decay (null: no average).</summary>
    public double? EmaDecay { get; }

    /// <summary>The latents [L, z_dim] the optimizer changes.</summary>
    public Parameter Latents => _normu;

    /// <summary>The class logits [L, num_classes] the optimizer changes.</summary>
    public Parameter ClassLogits => _cls;

    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["maxClasses"] = MaxClasses?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["emaDecay"] = EmaDecay?.ToString("R", CultureInfo.InvariantCulture) ?? "",
        ["model"] = _model.Config.Describe(),
        ["start"] = StartChoice is { } c ? FormattableString.Invariant($"{c.Class};{c.Candidates}") : "",
    };

    /// <summary>
    /// How the start was chosen when <see cref="BigSleepStart"/> chose it: the class as asked for ("auto", an id or a
    /// name) and the candidates drawn; null for upstream's random start. Kept in <see cref="Settings"/>, so a saved run
    /// and a picture's text say how to make the start again.
    /// </summary>
    public (string Class, int Candidates)? StartChoice { get; internal set; }

    /// <summary>Reads <see cref="Settings"/>' "start" value back (empty: none).</summary>
    internal static (string Class, int Candidates)? ParseStartChoice(string value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        int cut = value.LastIndexOf(';');
        if (cut < 0 || !int.TryParse(value[(cut + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int candidates))
            throw new InvalidDataException($"The biggan generator's saved start '{value}' is not CLASS;CANDIDATES.");
        return (value[..cut], candidates);
    }

    /// <summary>Upstream's start: <c>normu</c> ~ N(0, 1), <c>cls</c> ~ N(−3.9, 0.3) (every class nearly off).</summary>
    protected override void InitializeCore(Generator rng)
    {
        _normu.copy_(normal(BigSleepDefaults.LatentMean, BigSleepDefaults.LatentStd, _normu.shape, generator: rng).to(Device));
        _cls.copy_(normal(BigSleepDefaults.ClassLogitMean, BigSleepDefaults.ClassLogitStd, _cls.shape, generator: rng).to(Device));
        StartAverages();
    }

    /// <summary>
    /// Starts from given values instead of upstream's random ones (what <see cref="BigSleepStart"/> chooses): copies
    /// <paramref name="normu"/> [L, z_dim] and <paramref name="cls"/> [L, num_classes] into the parameters and restarts the
    /// moving average from them. Call it before the first step; the optimizer's state is not touched.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor of another shape (both shapes named).</exception>
    public void Start(Tensor normu, Tensor cls)
    {
        ArgumentNullException.ThrowIfNull(normu);
        ArgumentNullException.ThrowIfNull(cls);
        foreach (var (name, given, p) in new[] { ("normu", normu, _normu), ("cls", cls, _cls) })
            if (!given.shape.SequenceEqual(p.shape))
                throw new ArgumentException($"The biggan generator's {name} is [{string.Join(", ", p.shape)}]; the start given is [{string.Join(", ", given.shape)}].");
        using (no_grad())
        {
            _normu.copy_(normu);
            _cls.copy_(cls);
        }
        IsInitialized = true;
        StartAverages();
    }

    private void StartAverages()
    {
        _emaNormu?.Dispose();
        _emaCls?.Dispose();
        _emaNormu = _emaCls = null;
        if (EmaDecay is not { } decay) return;
        _emaNormu = new LatentEma(_normu, decay);
        _emaCls = new LatentEma(_cls, decay);
    }

    /// <summary>Each row's class vector [L, num_classes] from logits: sigmoid, or differentiable top-k with <see cref="MaxClasses"/>.</summary>
    public Tensor ClassVectors(Tensor logits) => BigSleepLosses.ClassVectors(logits, MaxClasses);

    /// <summary>The class vectors of the live logits [L, num_classes], without gradient (for charts). The caller owns it.</summary>
    public Tensor CurrentClassVectors()
    {
        using var _ = no_grad();
        return ClassVectors(_cls).detach().cpu();
    }

    public override Tensor Render()
    {
        EnsureInitialized();
        return Draw(_normu, _cls);
    }

    /// <summary>The moving average's picture, or null without one.</summary>
    public override Tensor? RenderForDisplay()
    {
        if (_emaNormu is null || _emaCls is null) return null;
        EnsureInitialized();
        using var _ = no_grad();
        return Draw(_emaNormu.Value, _emaCls.Value);
    }

    private Tensor Draw(Tensor normu, Tensor cls)
    {
        using var scope = NewDisposeScope();
        var image = _model.ForwardPerBlock(normu, ClassVectors(cls), BigSleepDefaults.Truncation);
        return image.add(1).div(2).MoveToOuterDisposeScope();
    }

    public override void PostStep()
    {
        _emaNormu?.Update(_normu);
        _emaCls?.Update(_cls);
    }

    /// <summary>Big Sleep's <c>lat_loss</c> ("latent") and <c>cls_loss</c> ("class"), both weight 1 as upstream adds them.</summary>
    public override IEnumerable<IRegularizer> CreateOwnLosses() =>
    [
        new OwnLoss("latent", g => BigSleepLosses.LatentLoss(g._normu)),
        new OwnLoss("class", g =>
        {
            using var scope = NewDisposeScope();
            return BigSleepLosses.ClassLoss(g.ClassVectors(g._cls)).MoveToOuterDisposeScope();
        }),
    ];

    private const string EmaPrefix = "ema.";

    protected override void SaveExtraState(StateDict state)
    {
        if (_emaNormu is null || _emaCls is null) return;
        foreach (var (name, ema) in new[] { ("normu", _emaNormu), ("cls", _emaCls) })
        {
            state.Add(EmaPrefix + name + ".biased", ema.Biased.detach().cpu().clone());
            state.Add(EmaPrefix + name + ".accum", tensor(new[] { ema.Accumulator }));
            state.Add(EmaPrefix + name + ".updates", tensor(new long[] { ema.Updates }));
        }
    }

    protected override void LoadExtraState(StateDict state)
    {
        if (EmaDecay is not { } decay) return;
        if (!state.ContainsKey(EmaPrefix + "normu.biased"))
        {
            StartAverages();   // a state saved without an average: start one from the loaded values
            return;
        }
        _emaNormu?.Dispose();
        _emaCls?.Dispose();
        LatentEma Restore(string name, Parameter p)
        {
            var biased = state[EmaPrefix + name + ".biased"];
            if (!biased.shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"Saved moving average '{name}' has shape [{string.Join(", ", biased.shape)}] but the biggan generator needs [{string.Join(", ", p.shape)}].");
            return LatentEma.FromState(biased.to(Device), state[EmaPrefix + name + ".accum"].item<float>(), decay,
                checked((int)state[EmaPrefix + name + ".updates"].item<long>()));
        }
        _emaNormu = Restore("normu", _normu);
        _emaCls = Restore("cls", _cls);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _emaNormu?.Dispose();
            _emaCls?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>One of the generator's own loss terms, computed from the generator in the step's context.</summary>
    private sealed class OwnLoss(string name, Func<BigSleepGenerator, Tensor> compute) : IRegularizer
    {
        public string Name => name;

        public Tensor? Compute(LossContext context) =>
            context.Generator is BigSleepGenerator g ? compute(g)
                : throw new InvalidOperationException($"The '{name}' loss belongs to the biggan generator, not {context.Generator.Name}.");

        public void Dispose() { }
    }
}
