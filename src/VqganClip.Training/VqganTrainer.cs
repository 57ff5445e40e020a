using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Guidance.Optimization;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// Trains a taming VQModel (<see cref="VqganModel"/>, taming parameter names) as an autoencoder on clipart
/// scenes: L1 + L2 reconstruction on pixels in [-1, 1] plus taming's VectorQuantizer loss (beta 0.25,
/// straight-through), Adam with warm-up and cosine decay. No discriminator or LPIPS term: the scenes are flat
/// colour and the PSNR target is an L2 figure; an adversarial term would cost a second network per step on a
/// 2-core CPU for sharpness the flat shapes do not need.
/// <para>Against codebook collapse: the codebook starts as k-means centres of the (random) encoder's outputs on
/// the step-0 batch, and every <see cref="VqganTrainingOptions.RestartEvery"/> steps the entries no latent chose
/// since the previous check are re-seeded from random latents of the current batch.</para>
/// </summary>
public sealed class VqganTrainer : ITrainer
{
    public const string CheckpointKind = "vqgan";
    private const string UsageTensor = "codebook_usage_window";

    private readonly VqganModel _model;
    private readonly Adam _optimizer;
    private readonly ISchedule _schedule;
    private readonly Parameter[] _parameters;
    private readonly Tensor _usage;   // int64 [n_embed]: times each code was chosen since the last restart check
    private readonly int _renderThreads;
    private bool _codebookReady;

    /// <summary>A fresh run: seeds torch, builds the model with random weights.</summary>
    public VqganTrainer(VqganTrainingOptions options, int renderThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        Options = options;
        _renderThreads = renderThreads;
        using (var _ = TorchRuntime.Seed(options.Seed)) { }
        _model = new VqganModel(options.Model);
        ResetNormalizationLayers(_model);
        _model.train();
        _parameters = TrainedParameters(_model, options.DecoderOnly);
        foreach (var p in _model.parameters()) p.requires_grad = false;
        foreach (var p in _parameters) p.requires_grad = true;
        _optimizer = optim.Adam(_parameters, lr: options.LearningRate, beta1: 0.9, beta2: 0.99);
        _schedule = Schedules.WarmupCosine(checked((int)options.WarmupSteps), checked((int)options.Steps));
        _usage = zeros(options.Model.NEmbed, dtype: ScalarType.Int64);
    }

    /// <summary>Continues a run from a checkpoint folder; <paramref name="steps"/> extends or shortens its plan.</summary>
    /// <param name="cropSize">Overrides the run's crop side from here on (0 = whole scenes), e.g. to finish a run on whole scenes.</param>
    public static VqganTrainer Resume(string checkpointDirectory, long? steps = null, int renderThreads = 0, int? cropSize = null)
    {
        var (step, json) = TrainingCheckpoint.ReadState(checkpointDirectory, CheckpointKind);
        var options = VqganTrainingOptions.FromJson(json);
        if (steps is not null) options = options with { Steps = steps.Value };
        if (cropSize is not null) options = options with { CropSize = cropSize.Value };
        var trainer = new VqganTrainer(options, renderThreads);
        try
        {
            TrainingCheckpoint.LoadModel(checkpointDirectory, trainer._model);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, trainer._optimizer);
            using var extra = TrainingCheckpoint.LoadTrainerTensors(checkpointDirectory);
            if (extra.TryGetValue(UsageTensor, out var usage))
                using (no_grad()) trainer._usage.copy_(usage);
            trainer.Step = step;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    public VqganTrainingOptions Options { get; }
    public VqganModel Model => _model;
    public string Kind => CheckpointKind;
    public long Step { get; private set; }
    public long TotalSteps => Options.Steps;
    public string PrimaryMetric => "psnr";

    public IReadOnlyDictionary<string, double> TrainStep()
    {
        if (Step == 0 && Options.DecoderOnly && !_codebookReady)
            throw new InvalidOperationException("A decoder-only run trains the decoder of a trained model: start it from one (--init-from FILE).");
        if (Step == 0 && Options.KMeansIterations > 0 && !_codebookReady) InitializeCodebook();
        _codebookReady = true;
        double lr = _schedule.LearningRate(checked((int)Step), Options.LearningRate);
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = lr;

        using var scope = NewDisposeScope();
        var (specs, _) = ClipartBatches.Scenes(Options.Seed, Step, Options.BatchSize);
        var x = ClipartBatches.Render(specs, _renderThreads) * 2 - 1;
        if (Options.CropSize > 0 && Options.CropSize < x.shape[2] && Step < (1 - Options.FullImageFraction) * Options.Steps)
            x = RandomCrops(x, Options.CropSize);

        Tensor h;
        QuantizerOutput q;
        // Decoder only: the codes are fixed, so nothing before post_quant_conv needs a graph (and the VQ loss,
        // logged, has no trainable part).
        using (Options.DecoderOnly ? no_grad() : null)
        {
            h = _model.Encode(x);
            q = _model.Quantizer.Forward(h, computeLoss: true);
        }
        var reconstruction = _model.Decode(q.ZQ);
        var diff = reconstruction - x;
        var l1 = diff.abs().mean();
        var l2 = diff.pow(2).mean();
        var loss = Options.L1Weight * l1 + Options.L2Weight * l2;
        if (!Options.DecoderOnly) loss = loss + q.Loss!;

        _optimizer.zero_grad();
        loss.backward();
        double gradNorm = nn.utils.clip_grad_norm_(_parameters, Options.GradClip > 0 ? Options.GradClip : double.MaxValue);
        // A non-finite gradient (seen once in ~350 steps on this CPU build, with a finite loss) would poison
        // every weight through Adam: skip that update instead.
        bool skipped = !double.IsFinite(gradNorm) || !double.IsFinite(loss.item<float>());
        if (skipped) _optimizer.zero_grad();
        else _optimizer.step();

        using (no_grad())
            _usage.add_(q.Indices.reshape(-1).bincount(null, minlength: Options.Model.NEmbed));
        Step++;

        var result = new Dictionary<string, double>
        {
            ["loss"] = loss.item<float>(),
            ["l1"] = l1.item<float>(),
            ["l2"] = l2.item<float>(),
            ["vq"] = q.Loss!.item<float>(),
            // l2 is on [-1, 1] pixels: MSE in [0, 1] is l2 / 4.
            ["batch_psnr"] = 10 * Math.Log10(4.0 / Math.Max(l2.item<float>(), 1e-12)),
            ["lr"] = lr,
            ["grad_norm"] = gradNorm,
            ["skipped"] = skipped ? 1 : 0,
        };
        if (Options.RestartEvery > 0 && Step % Options.RestartEvery == 0)
        {
            result["codes_used_window"] = _usage.count_nonzero().item<long>();
            if (Step < Options.RestartUntil * Options.Steps)
                result["codes_restarted"] = RestartDeadCodes(h.detach());
            _usage.zero_();
        }
        return result;
    }

    /// <summary>What a run trains: every parameter, or with <paramref name="decoderOnly"/> taming's decode path
    /// (<c>post_quant_conv</c>, <c>decoder</c>), leaving the codes every picture maps to unchanged.</summary>
    private static Parameter[] TrainedParameters(VqganModel model, bool decoderOnly) =>
        [.. model.named_parameters()
            .Where(p => !decoderOnly || p.name.StartsWith("decoder.", StringComparison.Ordinal) || p.name.StartsWith("post_quant_conv.", StringComparison.Ordinal))
            .Select(p => p.parameter)];

    /// <summary>
    /// Starts from the weights of an exported model (same architecture) instead of random ones; the codebook is
    /// then taken as it is (no k-means). Only before the first step.
    /// </summary>
    public void InitializeFrom(string exportedModel)
    {
        if (Step != 0) throw new InvalidOperationException("Weights can only be initialised before the first step.");
        using var source = VqganModel.Load(exportedModel);
        var targets = _model.state_dict();
        using (no_grad())
            foreach (var (name, tensor) in source.state_dict())
            {
                if (!targets.TryGetValue(name, out var target) || !target.shape.SequenceEqual(tensor.shape))
                    throw new CheckpointFormatException(exportedModel, "VQGAN", $"tensor '{name}' does not fit the model being trained ({Options.Model.DdConfig.Ch} ch, ch_mult [{string.Join(", ", Options.Model.DdConfig.ChMult)}]).");
                target.copy_(tensor);
            }
        _codebookReady = true;
    }

    public IReadOnlyDictionary<string, double> Evaluate(int heldOutScenes)
    {
        _model.eval();
        try
        {
            return ReconstructionEval.Run(_model, heldOutScenes, threads: _renderThreads).ToMetrics();
        }
        finally
        {
            _model.train();
        }
    }

    public void SaveCheckpoint(string directory) =>
        TrainingCheckpoint.Save(directory, CheckpointKind, Step, Options.ToJson(), _model, _optimizer,
            [(UsageTensor, _usage)]);

    /// <summary>Writes <paramref name="path"/> (.safetensors, taming key names) and the taming YAML beside it
    /// (same stem, .yaml), which <see cref="VqganModel.Load"/> finds.</summary>
    public void Export(string path) => Export(_model, path, Step);

    public static void Export(VqganModel model, string path, long step, string producer = "vqgan-clip train vqgan")
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["producer"] = producer,
            ["target"] = VqganConfig.VQModelTarget,
            ["step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        SafeTensors.Write(full, model.state_dict().Select(kv => (kv.Key, kv.Value.detach().contiguous())), metadata);
        File.WriteAllText(Path.ChangeExtension(full, ".yaml"), model.Config.ToYaml());
    }

    /// <summary>One random square crop per image, offsets drawn from (seed, step).</summary>
    private Tensor RandomCrops(Tensor x, int size)
    {
        var random = new Random(ClipartBatches.StepSeed(Options.Seed ^ 0xC409, Step));
        long limit = x.shape[2] - size;
        var crops = new Tensor[x.shape[0]];
        for (int i = 0; i < crops.Length; i++)
        {
            long top = random.NextInt64(limit + 1), left = random.NextInt64(limit + 1);
            crops[i] = x[i].narrow(1, top, size).narrow(2, left, size);
        }
        return stack(crops);
    }

    /// <summary>k-means centres of the step-0 batch's latents become the codebook (taming's uniform init is
    /// ~1/n wide, far from the encoder's outputs, and would let a handful of entries take every latent).</summary>
    private void InitializeCodebook()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (specs, _) = ClipartBatches.Scenes(Options.Seed, 0, Options.BatchSize);
        var h = _model.Encode(ClipartBatches.Render(specs, _renderThreads) * 2 - 1);
        var flat = h.permute(0, 2, 3, 1).reshape(-1, Options.Model.EmbedDim);
        var centers = KMeans.Fit(flat, Options.Model.NEmbed, Options.KMeansIterations, ClipartBatches.StepSeed(Options.Seed ^ 0x4B4D, 0));
        _model.Codebook.copy_(centers);
    }

    /// <summary>Re-seeds unused entries from random latents of <paramref name="h"/> (plus a little noise so two
    /// restarted entries never coincide). Returns how many were restarted.</summary>
    private int RestartDeadCodes(Tensor h)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var dead = (_usage == 0).nonzero().reshape(-1);
        int count = (int)dead.shape[0];
        if (count == 0) return 0;
        var flat = h.permute(0, 2, 3, 1).reshape(-1, Options.Model.EmbedDim);
        var random = new Random(ClipartBatches.StepSeed(Options.Seed ^ 0x5EED, Step));
        var picks = tensor(Enumerable.Range(0, count).Select(_ => (long)random.Next((int)flat.shape[0])).ToArray());
        var chosen = flat.index_select(0, picks);
        using var generator = new Generator((ulong)ClipartBatches.StepSeed(Options.Seed ^ 0xD1CE, Step));
        var noise = randn(chosen.shape, generator: generator);
        var fresh = chosen + 0.01 * flat.std() * noise;
        _model.Codebook.index_copy_(0, dead, fresh);
        return count;
    }

    /// <summary>
    /// TorchSharp 0.107's nn.GroupNorm leaves its affine weight and bias uninitialised (torch.empty: garbage,
    /// sometimes NaN or denormals), which is harmless when a checkpoint is copied in but not for training
    /// from scratch: set them to torch's defaults, weight 1 and bias 0.
    /// </summary>
    public static void ResetNormalizationLayers(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is GroupNorm norm)
            {
                norm.weight?.fill_(1);
                norm.bias?.zero_();
            }
        }
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _usage.Dispose();
        _model.Dispose();
    }
}
