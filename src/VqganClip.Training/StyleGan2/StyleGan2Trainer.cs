using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Clipart.Judge;
using VqganClip.Models.Runtime;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.StyleGan2;

/// <summary>
/// Trains a small StyleGAN2 (the toolkit's <see cref="StyleGan2Model"/>, a small <see cref="StyleGan2Config"/>) on
/// freshly rendered clipart scenes, following rosinality's train.py step by step: D on (G(mixing noise), real) with
/// the logistic loss (d_logistic_loss); every <see cref="StyleGan2TrainingOptions.DRegEvery"/>-th step the lazy R1
/// step (γ/2 · r1 · d_reg_every + 0 · real_pred[0]); then G with the non-saturating loss (g_nonsaturating_loss)
/// with D frozen; then g_ema ← accumulate(g_ema, G, accum). Random noise per layer (randomize_noise), style mixing
/// with probability 0.9 at a random inject index. Everything random in a step (real scenes, z, mixing, inject
/// index, noise) is a function of (seed, step), so a resumed run continues exactly. Exports g_ema with its
/// latent_avg (the mean of 4096 mapped z, seeded) as <see cref="StyleGan2Model.Save"/> writes it.
/// </summary>
public sealed class StyleGan2Trainer : ITrainer
{
    public const string CheckpointKind = "stylegan2";

    /// <summary>z drawn for the exported latent_avg (upstream's mean_latent(4096) in generate.py).</summary>
    public const int MeanLatentSamples = 4096;

    private readonly StyleGan2Model _g;
    private readonly StyleGan2Model _gEma;
    private readonly StyleGan2Discriminator _d;
    private readonly GanModules _modules;
    private readonly Adam _gOptimizer;
    private readonly Adam _dOptimizer;
    private readonly Parameter[] _gParameters;
    private readonly Parameter[] _dParameters;
    private readonly (Tensor Source, Tensor Target)[] _emaPairs;
    private readonly int _renderThreads;
    private readonly SceneJudge? _judge;

    /// <param name="judge">Reads and grades samples in <see cref="Evaluate"/>; null leaves those figures NaN.</param>
    public StyleGan2Trainer(StyleGan2TrainingOptions options, int renderThreads = 0, SceneJudge? judge = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        Options = options;
        _renderThreads = renderThreads;
        _judge = judge;
        Config = options.GeneratorConfig();

        using (var _ = TorchRuntime.Seed(options.Seed)) { }
        _g = new StyleGan2Model(Config);
        _d = new StyleGan2Discriminator(Config.Size, options.DChannels, Config.BlurKernel);
        _gEma = new StyleGan2Model(Config);
        _modules = new GanModules(_g, _d, _gEma);
        // accumulate(g_ema, generator, 0): parameters only, as upstream; the noise buffers are copied once here.
        using (no_grad())
        {
            var source = _g.state_dict();
            foreach (var (name, target) in _gEma.state_dict()) target.copy_(source[name]);
        }
        var emaParameters = _gEma.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        _emaPairs = _g.named_parameters().Select(kv => ((Tensor)kv.parameter, (Tensor)emaParameters[kv.name])).ToArray();

        _gParameters = _g.parameters().ToArray();
        foreach (var p in _gParameters) p.requires_grad = true;
        _dParameters = _d.parameters().ToArray();
        _g.train();
        _d.train();
        // train.py: d_optim lr·ratio, betas (0 ** ratio, 0.99 ** ratio); no path-length regularisation, so G's ratio is 1.
        double dRatio = options.DRegRatio;
        _gOptimizer = optim.Adam(_gParameters, lr: options.LearningRate, beta1: 0, beta2: 0.99);
        _dOptimizer = optim.Adam(_dParameters, lr: options.LearningRate * dRatio, beta1: 0, beta2: Math.Pow(0.99, dRatio));
    }

    /// <summary>Continues a run from a checkpoint folder; <paramref name="steps"/> extends or shortens its plan.</summary>
    public static StyleGan2Trainer Resume(string checkpointDirectory, long? steps = null, int renderThreads = 0, SceneJudge? judge = null)
    {
        var (step, json) = TrainingCheckpoint.ReadState(checkpointDirectory, CheckpointKind);
        var options = StyleGan2TrainingOptions.FromJson(json);
        if (steps is not null) options = options with { Steps = steps.Value };
        return TrainingCheckpoint.Restore(new StyleGan2Trainer(options, renderThreads, judge), t =>
        {
            TrainingCheckpoint.LoadModel(checkpointDirectory, t._modules);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._gOptimizer);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._dOptimizer, "d");
            t.Step = step;
        });
    }

    public StyleGan2TrainingOptions Options { get; }
    public StyleGan2Config Config { get; }
    public StyleGan2Model Generator => _g;
    public StyleGan2Model GeneratorEma => _gEma;
    public StyleGan2Discriminator Discriminator => _d;

    /// <summary>G, D and g_ema as one module (prefixes generator., discriminator., g_ema.): what a checkpoint stores.</summary>
    public nn.Module Modules => _modules;

    public string Kind => CheckpointKind;
    public long Step { get; private set; }
    public long TotalSteps => Options.Steps;
    public string PrimaryMetric => "valid";

    public IReadOnlyDictionary<string, double> TrainStep()
    {
        using var scope = NewDisposeScope();
        int batch = Options.BatchSize;
        int stepSeed = ClipartBatches.StepSeed(Options.Seed ^ 0x57A1, Step);
        using var rng = new torch.Generator((ulong)stepSeed);
        var random = new Random(stepSeed);
        var noise = StyleGan2Noise.Random(rng);
        var (specs, _) = ClipartBatches.Scenes(Options.Seed, Step, batch);
        var real = ClipartBatches.Render(specs, _renderThreads) * 2 - 1;

        // D step (requires_grad(generator, False)).
        double dLoss, realScore, fakeScore;
        {
            using var inner = NewDisposeScope();
            Tensor fake;
            using (no_grad()) fake = Generate(batch, rng, random, noise);
            var fakePred = _d.forward(fake);
            var realPred = _d.forward(real);
            var loss = F.softplus(-realPred).mean() + F.softplus(fakePred).mean();   // d_logistic_loss
            _dOptimizer.zero_grad();
            loss.backward();
            _dOptimizer.step();
            dLoss = loss.item<float>();
            realScore = realPred.mean().item<float>();
            fakeScore = fakePred.mean().item<float>();
        }

        double r1 = double.NaN;
        if (Options.DRegEvery > 0 && Step % Options.DRegEvery == 0 && Options.R1Gamma > 0)
        {
            using var inner = NewDisposeScope();
            var (r1Loss, realPred) = R1Penalty.Compute(_d.forward, real);   // d_r1_loss
            _dOptimizer.zero_grad();
            (Options.R1Gamma / 2 * r1Loss * Options.DRegEvery + 0 * realPred[0]).sum().backward();
            _dOptimizer.step();
            r1 = r1Loss.item<float>();
        }

        // G step (requires_grad(discriminator, False)).
        double gLoss;
        foreach (var p in _dParameters) p.requires_grad = false;
        try
        {
            using var inner = NewDisposeScope();
            var fake = Generate(batch, rng, random, noise);
            var loss = F.softplus(-_d.forward(fake)).mean();   // g_nonsaturating_loss
            _gOptimizer.zero_grad();
            loss.backward();
            _gOptimizer.step();
            gLoss = loss.item<float>();
        }
        finally
        {
            foreach (var p in _dParameters) p.requires_grad = true;
        }

        Accumulate(Options.EmaDecay);
        Step++;
        return new Dictionary<string, double>
        {
            ["d"] = dLoss,
            ["g"] = gLoss,
            ["r1"] = r1,
            ["real_score"] = realScore,
            ["fake_score"] = fakeScore,
        };
    }

    /// <summary>train.py's generator(mixing_noise(batch, latent, mixing)): two z with probability mixing, random inject index, random noise.</summary>
    private Tensor Generate(int batch, torch.Generator rng, Random random, StyleGan2Noise noise)
    {
        using var scope = NewDisposeScope();
        bool mix = Options.Mixing > 0 && random.NextDouble() < Options.Mixing;
        var z = randn(new long[] { mix ? 2 : 1, batch, Config.StyleDim }, generator: rng);
        var styles = mix ? new[] { z[0], z[1] } : new[] { z[0] };
        var (image, _) = _g.Forward(styles, noise, injectRng: random);
        return image.MoveToOuterDisposeScope();
    }

    /// <summary>train.py's accumulate(model1, model2, decay): g_ema's parameters ← decay·g_ema + (1 − decay)·G.</summary>
    private void Accumulate(double decay)
    {
        using var _ = no_grad();
        foreach (var (source, target) in _emaPairs) target.mul_(decay).add_(source, alpha: 1 - decay);
    }

    /// <summary>
    /// The share of <paramref name="samples"/> g_ema samples (seeded, ψ 1, the fixed noise) that <see cref="StyleGan2SampleEval"/>
    /// reads as valid scenes, and the same measure on as many held-out rendered scenes.
    /// </summary>
    public IReadOnlyDictionary<string, double> Evaluate(int samples)
    {
        if (_judge is null) return new Dictionary<string, double> { ["valid"] = double.NaN };
        var r = StyleGan2SampleEval.Run(_gEma, samples, _judge, seed: 0);
        return new Dictionary<string, double> { ["valid"] = r.ValidRate, ["objects_mean"] = r.MeanObjects };
    }

    public void SaveCheckpoint(string directory) =>
        TrainingCheckpoint.Save(directory, CheckpointKind, Step, Options.ToJson(), _modules, _gOptimizer,
            moreOptimizers: [("d", _dOptimizer)]);

    /// <summary>Writes g_ema with latent_avg (<see cref="StyleGan2Model.Save"/>: upstream's names, config in the metadata).</summary>
    public void Export(string path)
    {
        using var scope = NewDisposeScope();
        using var rng = new torch.Generator((ulong)Options.Seed);
        _gEma.LatentAvg = _gEma.MeanLatent(MeanLatentSamples, rng).squeeze(0);
        _gEma.Save(path);
    }

    public void Dispose()
    {
        _gOptimizer.Dispose();
        _dOptimizer.Dispose();
        _modules.Dispose();
    }

    private sealed class GanModules : nn.Module
    {
        public GanModules(StyleGan2Model g, StyleGan2Discriminator d, StyleGan2Model gEma) : base("StyleGan2Training")
        {
            register_module("generator", g);
            register_module("discriminator", d);
            register_module("g_ema", gEma);
        }
    }
}
