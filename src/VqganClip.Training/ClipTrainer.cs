using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Guidance.Optimization;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// Trains a <see cref="ClipModel"/> with OpenAI parameter names (<see cref="ClipartClipArchitecture"/>) on captioned clipart scenes with CLIP's
/// symmetric contrastive loss: cross-entropy over image->caption and caption->image cosine similarities scaled
/// by exp(logit_scale), logit_scale learnable from ln(1/0.07) and clamped at ln(100) as in the CLIP paper.
/// Images are augmented views (<see cref="ClipAugment"/>); captions go through the real CLIP tokenizer.
/// Many captions of a batch are near-duplicates (same colour and object): that is the domain, and the loss
/// is the standard one regardless.
/// <para>The token table is rounded to float16 precision after every step, so the exported file (which stores
/// it as float16, see <see cref="Export(ClipModel, string, long)"/>) holds exactly the trained values.</para>
/// <para>Train mode holds only while the contrastive loss of a step is computed; guided chains and evaluations see
/// the model in eval mode, as users do.</para>
/// </summary>
public sealed class ClipTrainer : ITrainer
{
    public const string CheckpointKind = "clip";
    private static readonly double MaxLogitScale = Math.Log(100);

    private readonly ClipModel _model;
    private readonly Adam _optimizer;
    private readonly ISchedule _schedule;
    private readonly Parameter[] _parameters;
    private readonly RowSparseAdam _tokenOptimizer;
    private readonly int _renderThreads;
    private readonly GuidedNegativePool? _pool;
    private const string TokenStatePrefix = "token_embedding_adam.";

    public ClipTrainer(ClipTrainingOptions options, int renderThreads = 0) : this(options, renderThreads, loadInitialWeights: true) { }

    private ClipTrainer(ClipTrainingOptions options, int renderThreads, bool loadInitialWeights)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        Options = options;
        _renderThreads = renderThreads;
        using (var _ = TorchRuntime.Seed(options.Seed)) { }
        _model = new ClipModel(options.Model);
        if (options.InitFrom is not null && loadInitialWeights)
        {
            try { LoadInitialWeights(_model, options.InitFrom); }
            catch { _model.Dispose(); throw; }
        }
        _model.SetTrainable(true);
        RoundTokenTableToHalf(_model);
        _parameters = _model.parameters().ToArray();
        // The token table gets its own row-sparse Adam (same betas); everything else dense Adam.
        var table = _model.token_embedding.weight!;
        _optimizer = optim.Adam(_parameters.Where(p => p.Handle != table.Handle), lr: options.LearningRate, beta1: 0.9, beta2: 0.98, eps: 1e-6);
        _tokenOptimizer = new RowSparseAdam(table, beta1: 0.9, beta2: 0.98, eps: 1e-6);
        _schedule = Schedules.WarmupCosine(checked((int)options.WarmupSteps), checked((int)options.Steps));
        if (options.GuidedNegatives is { } guided)
        {
            if (!File.Exists(guided.VqganPath))
            {
                Dispose();
                throw new FileNotFoundException($"Guided negatives: no VQGAN checkpoint at '{guided.VqganPath}'.", guided.VqganPath);
            }
            try { _pool = new GuidedNegativePool(Models.Vqgan.VqganModel.Load(guided.VqganPath), guided, options.Model.ImageResolution, options.Seed); }
            catch { Dispose(); throw; }
        }
    }

    /// <summary>Continues a run from a checkpoint folder; <paramref name="steps"/> extends or shortens its plan.</summary>
    /// <param name="augment">Replaces the run's augmentation from here on (e.g. milder views to finish a run).</param>
    public static ClipTrainer Resume(string checkpointDirectory, long? steps = null, int renderThreads = 0, ClipAugment? augment = null)
    {
        var (step, json) = TrainingCheckpoint.ReadState(checkpointDirectory, CheckpointKind);
        var options = ClipTrainingOptions.FromJson(json);
        if (steps is not null) options = options with { Steps = steps.Value };
        if (augment is not null) options = options with { Augment = augment };
        // The weights come from the checkpoint: a fine-tuned run's --init file is not read again (it may be gone).
        var trainer = new ClipTrainer(options, renderThreads, loadInitialWeights: false);
        try
        {
            TrainingCheckpoint.LoadModel(checkpointDirectory, trainer._model);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, trainer._optimizer);
            using (var extra = TrainingCheckpoint.LoadTrainerTensors(checkpointDirectory))
                trainer._tokenOptimizer.Load(extra, TokenStatePrefix);
            trainer.Step = step;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    public ClipTrainingOptions Options { get; }
    public ClipModel Model => _model;
    public string Kind => CheckpointKind;
    public long Step { get; private set; }
    public long TotalSteps => Options.Steps;
    public string PrimaryMetric => "top1";

    public IReadOnlyDictionary<string, double> TrainStep()
    {
        double lr = _schedule.LearningRate(checked((int)Step), Options.LearningRate);
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = lr;

        using var scope = NewDisposeScope();
        var (specs, captions) = Options.KindVariants > 1
            ? ClipartBatches.ScenesWithKindVariants(Options.Seed, Step, Options.BatchSize, Options.KindVariants)
            : ClipartBatches.Scenes(Options.Seed, Step, Options.BatchSize);
        // Guided negatives: the pool's chains take their guidance steps with the current weights; their scenes join
        // the batch as VQGAN reconstructions (the best a guided picture of them can look), their pictures as negatives.
        _model.eval();
        var guided = _pool?.Advance(_model);
        if (guided is not null)
        {
            specs = [.. specs, .. guided.Value.Specs];
            captions = [.. captions, .. guided.Value.Captions];
        }
        var images = ClipartBatches.Render(specs, _renderThreads);
        if (guided is not null)
            images = cat([images.narrow(0, 0, Options.BatchSize), _pool!.Reconstruct(images.narrow(0, Options.BatchSize, guided.Value.Specs.Length))], 0);
        Tensor views;
        Tensor? guidedViews = null;
        using (var generator = new Generator((ulong)ClipartBatches.StepSeed(Options.Seed ^ 0xA06, Step)))
        {
            views = Options.Augment.Apply(images, generator);
            if (guided is not null) guidedViews = Options.Augment.Apply(guided.Value.Images, generator);
        }
        var tokens = ClipTokenizer.Default.Tokenize(captions, Options.Model.ContextLength, truncate: true);

        Tensor loss, logits;
        (double Pair, double Win)? guidedFigures = null;
        _model.train();
        if (guidedViews is null)
            (loss, logits) = ContrastiveLoss(_model, views, tokens);
        else
        {
            var result = ContrastiveLossWithNegatives(_model, views, tokens,
                [PairedNegatives.ForLast(guidedViews, views.shape[0], Options.GuidedNegatives!.Weight)]);
            (loss, logits, guidedFigures) = (result.Loss, result.Logits, result.Figures[0]);
        }
        var labels = arange(logits.shape[0], dtype: ScalarType.Int64);

        _model.eval();
        _optimizer.zero_grad();
        loss.backward();
        double gradNorm = nn.utils.clip_grad_norm_(_parameters, Options.GradClip > 0 ? Options.GradClip : double.MaxValue);
        // Skip an update with a non-finite gradient rather than poison the weights (see VqganTrainer).
        bool skipped = !double.IsFinite(gradNorm) || !double.IsFinite(loss.item<float>());
        if (skipped)
        {
            _optimizer.zero_grad();
            using (no_grad()) _model.token_embedding.weight!.grad?.zero_();
        }
        else
        {
            _optimizer.step();
            _tokenOptimizer.Step(tokens.reshape(-1).unique().Item1, lr);
        }
        using (no_grad())
            _model.logit_scale.clamp_(0, MaxLogitScale);
        RoundTokenTableToHalf(_model);
        Step++;

        double accuracy;
        using (no_grad())
            accuracy = (logits.argmax(1) == labels).to(ScalarType.Float32).mean().item<float>();
        var metrics = new Dictionary<string, double>
        {
            ["loss"] = loss.item<float>(),
            ["batch_top1"] = accuracy,
            ["logit_scale"] = _model.LogitScale,
            ["lr"] = lr,
            ["grad_norm"] = gradNorm,
            ["skipped"] = skipped ? 1 : 0,
        };
        if (guided is { } done && guidedFigures is { } figures)
        {
            metrics["guided_distance"] = done.Loss;
            metrics["guided_pair"] = figures.Pair;
            metrics["drawing_wins"] = figures.Win;
        }
        return metrics;
    }

    /// <summary>
    /// <see cref="ContrastiveLoss"/> on the batch, plus, for the last <c>m</c> captions (the guided chains' scenes,
    /// whose images end the batch), <paramref name="weight"/> times the mean of softplus(s·(cos(guided, caption) −
    /// cos(drawing, caption))), s = exp(logit_scale): each such caption must prefer its drawing to the picture
    /// guidance made for it (a two-way cross-entropy). Also returns that term and how often the drawing already wins.
    /// </summary>
    public static (Tensor Loss, Tensor Logits, double PairLoss, double DrawingWins) GuidedContrastiveLoss(
        ClipModel model, Tensor views01, Tensor tokens, Tensor guided01, double weight)
    {
        long n = views01.shape[0], m = guided01.shape[0];
        if (m > n) throw new ArgumentException($"{m} guided pictures for a batch of {n}: the batch must end with their drawings.");
        var (loss, logits, figures) = ContrastiveLossWithNegatives(model, views01, tokens, [PairedNegatives.ForLast(guided01, n, weight)]);
        return (loss, logits, figures[0].PairLoss, figures[0].DrawingWins);
    }

    /// <summary>Negative pictures for some captions of a batch: <see cref="Images01"/>[k] is a worse picture of caption <see cref="CaptionIndex"/>[k].</summary>
    public sealed record PairedNegatives(Tensor Images01, long[] CaptionIndex, double Weight)
    {
        /// <summary>Negatives for the last captions of a batch of <paramref name="batch"/> (the guided chains' scenes end the batch).</summary>
        public static PairedNegatives ForLast(Tensor images01, long batch, double weight)
        {
            long m = images01.shape[0];
            return new PairedNegatives(images01, Enumerable.Range((int)(batch - m), (int)m).Select(i => (long)i).ToArray(), weight);
        }
    }

    /// <summary>
    /// <see cref="ContrastiveLoss"/> on the batch plus, for each set of paired negatives, its weight times the mean of
    /// softplus(s·(cos(negative, caption) − cos(drawing, caption))), s = exp(logit_scale): each such caption must prefer
    /// its own drawing (image CaptionIndex[k] of the batch) to its negative. Returns the loss, the batch's image->text
    /// logits, and per set the mean term and how often the drawing already wins.
    /// </summary>
    public static (Tensor Loss, Tensor Logits, (double PairLoss, double DrawingWins)[] Figures) ContrastiveLossWithNegatives(
        ClipModel model, Tensor views01, Tensor tokens, IReadOnlyList<PairedNegatives> sets)
    {
        using var scope = NewDisposeScope();
        long n = views01.shape[0];
        foreach (var set in sets)
        {
            if (set.Images01.shape[0] != set.CaptionIndex.Length)
                throw new ArgumentException($"{set.Images01.shape[0]} negative pictures for {set.CaptionIndex.Length} captions.");
            if (set.CaptionIndex.Any(i => i < 0 || i >= n))
                throw new ArgumentException($"A negative's caption index is outside the batch of {n}.");
        }
        var imageFeatures = model.EncodeImage(ClipModel.Normalize01(AtModelSize(model, cat([views01, .. sets.Select(s => s.Images01)], 0))));
        imageFeatures = imageFeatures / imageFeatures.norm(-1, keepdim: true);
        var textFeatures = model.EncodeText(tokens);
        textFeatures = textFeatures / textFeatures.norm(-1, keepdim: true);
        var scale = model.logit_scale.exp();
        var real = imageFeatures.narrow(0, 0, n);
        var logits = scale * matmul(real, textFeatures.t());
        var loss = SymmetricCrossEntropy(logits);
        var figures = new (double, double)[sets.Count];
        long offset = n;
        for (int k = 0; k < sets.Count; k++)
        {
            var set = sets[k];
            long m = set.CaptionIndex.Length;
            var index = tensor(set.CaptionIndex);
            var captions = textFeatures.index_select(0, index);
            var drawingSimilarity = (real.index_select(0, index) * captions).sum(1);
            var negativeSimilarity = (imageFeatures.narrow(0, offset, m) * captions).sum(1);
            var pair = nn.functional.softplus(scale * (negativeSimilarity - drawingSimilarity)).mean();
            figures[k] = (pair.item<float>(), (drawingSimilarity > negativeSimilarity).to(ScalarType.Float32).mean().item<float>());
            loss = loss + set.Weight * pair;
            offset += m;
        }
        return (loss.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope(), figures);
    }

    /// <summary>
    /// CLIP's symmetric loss for a batch: cross-entropy of exp(logit_scale)-scaled cosine similarities, image->text
    /// and text->image, with the matching pair (same index) as the target. Returns the loss and the image->text logits.
    /// </summary>
    public static (Tensor Loss, Tensor Logits) ContrastiveLoss(ClipModel model, Tensor images01, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var imageFeatures = model.EncodeImage(ClipModel.Normalize01(AtModelSize(model, images01)));
        var textFeatures = model.EncodeText(tokens);
        imageFeatures = imageFeatures / imageFeatures.norm(-1, keepdim: true);
        textFeatures = textFeatures / textFeatures.norm(-1, keepdim: true);
        var logits = model.logit_scale.exp() * matmul(imageFeatures, textFeatures.t());
        return (SymmetricCrossEntropy(logits).MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The 64-pixel views at the CLIP's input resolution: unchanged for a 64-pixel CLIP, else upsampled bilinearly
    /// (half-pixel centres), the same resampling guidance's cutouts apply when they grid_sample a picture.
    /// </summary>
    public static Tensor AtModelSize(ClipModel model, Tensor images01)
    {
        int size = model.ImageSize;
        if (images01.shape[2] == size && images01.shape[3] == size) return images01;
        return nn.functional.interpolate(images01, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
    }

    /// <summary>CLIP's loss on square image->text logits: the mean of the image->text and text->image cross-entropies, matching pairs on the diagonal.</summary>
    private static Tensor SymmetricCrossEntropy(Tensor logits)
    {
        var labels = arange(logits.shape[0], dtype: ScalarType.Int64, device: logits.device);
        return (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.t(), labels)) / 2;
    }

    /// <summary>Copies an exported CLIP's weights into a fresh model of the same architecture (fine-tuning start).</summary>
    private static void LoadInitialWeights(ClipModel model, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The starting CLIP (InitFrom): no file at '{path}'.", path);
        using var source = ClipModel.Load(path);
        var target = model.state_dict();
        using var _ = no_grad();
        foreach (var (key, value) in source.state_dict())
        {
            if (!target.TryGetValue(key, out var slot))
                throw new InvalidDataException($"The starting CLIP '{path}' has '{key}', which the training architecture lacks.");
            if (!slot.shape.SequenceEqual(value.shape))
                throw new InvalidDataException($"The starting CLIP '{path}' has '{key}' of shape [{string.Join(", ", value.shape)}], the training architecture [{string.Join(", ", slot.shape)}].");
            slot.copy_(value);
        }
        var missing = target.Keys.Except(source.state_dict().Keys).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"The starting CLIP '{path}' lacks {string.Join(", ", missing.Take(5).Select(k => $"'{k}'"))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}, which the training architecture has.");
    }

    /// <summary>The contrastive loss on the first <paramref name="scenes"/> held-out scenes (whole images, one batch, no gradients).</summary>
    public static double HeldOutLoss(ClipModel model, int scenes)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (specs, captions) = ClipartBatches.HeldOut(scenes);
        var tokens = ClipTokenizer.Default.Tokenize(captions, model.ContextLength, truncate: true);
        return ContrastiveLoss(model, ClipartBatches.Render(specs), tokens).Loss.item<float>();
    }

    public IReadOnlyDictionary<string, double> Evaluate(int heldOutScenes)
    {
        var metrics = new Dictionary<string, double>(RetrievalEval.Run(_model, heldOutScenes, groupSize: Math.Min(100, heldOutScenes), threads: _renderThreads).ToMetrics())
        {
            ["kind_top1"] = RetrievalEval.KindTop1(_model, Math.Min(300, heldOutScenes), _renderThreads),
        };
        return metrics;
    }

    public void SaveCheckpoint(string directory) =>
        TrainingCheckpoint.Save(directory, CheckpointKind, Step, Options.ToJson(), _model, _optimizer, _tokenOptimizer.State(TokenStatePrefix));

    public void Export(string path) => Export(_model, path, Step);

    /// <summary>
    /// Writes OpenAI-layout safetensors that <see cref="ClipModel.Load"/> reads (it infers the architecture from
    /// the shapes and converts float16 to float32). <c>token_embedding.weight</c> is stored as float16, every
    /// other tensor as float32: the 49408-row table is most of the bytes and only a few dozen rows are ever
    /// trained on clipart captions.
    /// </summary>
    public static void Export(ClipModel model, string path, long step)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["producer"] = "vqgan-clip train clip",
            ["step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        using var scope = NewDisposeScope();
        var tensors = model.state_dict()
            .Select(kv => (kv.Key, kv.Key == "token_embedding.weight" ? kv.Value.detach().to(ScalarType.Float16) : kv.Value.detach().contiguous()))
            .ToList();
        SafeTensors.Write(full, tensors, metadata);
    }

    /// <summary>Rounds the token table to the nearest float16 values (kept in float32), see the class remarks.</summary>
    private static void RoundTokenTableToHalf(ClipModel model)
    {
        using var _ = no_grad();
        using var half = model.token_embedding.weight!.to(ScalarType.Float16);
        model.token_embedding.weight!.copy_(half);
    }

    public void Dispose()
    {
        _pool?.Dispose();
        _optimizer.Dispose();
        _tokenOptimizer.Dispose();
        _model.Dispose();
    }
}
