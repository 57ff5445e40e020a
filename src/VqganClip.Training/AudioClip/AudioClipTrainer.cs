using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.AudioClip;

/// <summary>
/// Trains a small ESResNeXt-fbsp audio head (<see cref="AudioClipModel"/>, upstream's names) to put each spoken clipart
/// caption near the frozen CLIP's text embedding of the written caption and away from the batch's other captions:
/// cross-entropy over audio→text cosines × exp(<c>logit_scale_at</c>), as upstream's audio–text term. The CLIP is
/// frozen (its text embeddings of the training captions are computed once, without gradients), so the head learns
/// into the CLIP's own space and the CLIP's image tower can score what an audio prompt asks for.
/// <para>Batches, time offsets and everything random are functions of (seed, step): a resumed run continues exactly.</para>
/// </summary>
public sealed class AudioClipTrainer : ITrainer
{
    public const string CheckpointKind = "audioclip";

    /// <summary>10·log10(1e−18): the decibels of silence (<see cref="SpectrogramBands"/>), which pads shorter clips of a batch.</summary>
    private const double SilenceDb = -180.0;

    private readonly ClipModel _clip;
    private readonly AudioClipModel _model;
    private readonly Parameter[] _head;
    private readonly Parameter[] _fbsp;
    private readonly OptimizerHelper _optimizer;
    private readonly SpokenCaption[] _clips;
    private readonly string[] _paths;
    private readonly int[] _textIndex;
    private readonly int[] _byLength;
    private readonly Tensor _text;
    private Tensor[]? _decibels;
    private readonly Action<string>? _report;

    /// <param name="clip">The frozen CLIP (not owned); null loads <see cref="AudioClipTrainingOptions.ClipPath"/>.</param>
    public AudioClipTrainer(AudioClipTrainingOptions options, ClipModel? clip = null, EspeakSynthesizer? synthesizer = null, Action<string>? report = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        Options = options;
        _report = report;
        OwnsClip = clip is null;
        _clip = clip ?? ClipModel.Load(options.ClipPath);
        try
        {
            _clip.eval();
            foreach (var p in _clip.parameters()) p.requires_grad = false;

            _clips = SpokenCaptions.Training(options.Seed, options.TrainingClips, options.WideVoices);
            var started = DateTime.UtcNow;
            _paths = SpokenCaptions.Synthesize(_clips, options.CacheDirectory, synthesizer,
                progress: (n, all) => _report?.Invoke($"spoken captions: {n}/{all} synthesised"));
            _report?.Invoke($"spoken captions: {_clips.Length} in {options.CacheDirectory} ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");

            // length order from the WAV sizes (16-bit mono behind one header: bytes grow with samples)
            _byLength = Enumerable.Range(0, _clips.Length).OrderBy(i => new FileInfo(_paths[i]).Length).ThenBy(i => i).ToArray();
            var unique = _clips.Select(c => c.Caption).Distinct().ToList();
            var row = unique.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
            _textIndex = _clips.Select(c => row[c.Caption]).ToArray();
            _text = CaptionEmbeddings.Encode(_clip, unique);

            using (var _ = TorchRuntime.Seed(options.Seed)) { _model = new AudioClipModel(options.HeadConfig(_clip.EmbedDim)); }
            // the CLIP's own learned temperature (its text space's geometry); upstream clamps exp at 100
            using (no_grad()) _model.logit_scale_at.fill_(Math.Log(Math.Clamp(_clip.LogitScale, 1f, 100f)));
            _fbsp = [_model.audio.fbsp.m, _model.audio.fbsp.fb, _model.audio.fbsp.fc];
            _head = _model.parameters().Where(p => !_fbsp.Any(f => f.Handle == p.Handle) && p.Handle != _model.audio.fbsp.bias.Handle
                && p.Handle != _model.logit_scale_ai.Handle).ToArray();
            foreach (var p in _head) p.requires_grad = true;
            _model.train();
            _optimizer = optim.Adam([
                new Adam.ParamGroup(_head, new Adam.Options { LearningRate = options.LearningRate }),
                new Adam.ParamGroup(_fbsp, new Adam.Options { LearningRate = options.FbspLearningRate }),
            ], lr: options.LearningRate);
        }
        catch
        {
            if (OwnsClip) _clip.Dispose();
            throw;
        }
    }

    /// <summary>Continues a run from a checkpoint folder; <paramref name="steps"/> extends or shortens its plan.</summary>
    public static AudioClipTrainer Resume(string checkpointDirectory, long? steps = null, ClipModel? clip = null, EspeakSynthesizer? synthesizer = null, Action<string>? report = null)
    {
        var (step, json) = TrainingCheckpoint.ReadState(checkpointDirectory, CheckpointKind);
        var options = AudioClipTrainingOptions.FromJson(json);
        if (steps is not null) options = options with { Steps = steps.Value };
        return TrainingCheckpoint.Restore(new AudioClipTrainer(options, clip, synthesizer, report), t =>
        {
            TrainingCheckpoint.LoadModel(checkpointDirectory, t._model);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._optimizer);
            t.Step = step;
        });
    }

    public AudioClipTrainingOptions Options { get; }
    public AudioClipModel Model => _model;
    public ClipModel Clip => _clip;
    public IReadOnlyList<SpokenCaption> Clips => _clips;
    private bool OwnsClip { get; }

    public string Kind => CheckpointKind;
    public long Step { get; private set; }
    public long TotalSteps => Options.Steps;
    public string PrimaryMetric => "top1";

    /// <summary>Whether step <see cref="Step"/> trains the Fourier basis too (after <see cref="AudioClipTrainingOptions.FrozenFbspSteps"/>).</summary>
    public bool FbspLearning => Step >= Options.FrozenFbspSteps;

    /// <summary>Linear warm-up, then cosine decay to a tenth.</summary>
    private double RateFactor(long step)
    {
        if (step < Options.WarmupSteps) return (step + 1.0) / Options.WarmupSteps;
        double t = Math.Min(1.0, (double)(step - Options.WarmupSteps) / Math.Max(1, Options.Steps - Options.WarmupSteps));
        return 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * t));
    }

    public IReadOnlyDictionary<string, double> TrainStep()
    {
        if (!FbspLearning) Decibels();   // outside the fence: the cache is built clip by clip in fences of its own
        return FinalizerFence.Run(TrainStepFenced);
    }

    private IReadOnlyDictionary<string, double> TrainStepFenced()
    {
        using var scope = NewDisposeScope();
        var random = new Random(ClipartBatches.StepSeed(Options.Seed, Step));
        var batch = DrawSimilarLengths(random);
        bool fbsp = FbspLearning;
        foreach (var p in _fbsp) p.requires_grad = fbsp;
        double factor = RateFactor(Step);
        var groups = _optimizer.ParamGroups.ToArray();
        groups[0].LearningRate = Options.LearningRate * factor;
        groups[1].LearningRate = Options.FbspLearningRate * factor;

        // the last steps with frozen statistics: the network then trains exactly as it embeds one clip at inference
        if (BatchNormFrozen)
        {
            if (Step == FreezeStep) CalibrateBatchNorm();
            _model.eval();
        }
        else _model.train();
        var audio = fbsp ? _model.audio.forward(RawBatch(batch, random)) : _model.audio.Embed(DecibelBatch(batch, random, AugmentationRandom(Step)));
        var (labels, columns) = Targets(batch);
        var a = audio / audio.norm(-1, keepdim: true);
        var t = _text.index_select(0, columns);
        var scale = _model.logit_scale_at.exp().clamp(max: 100.0);
        var logits = scale * matmul(a, t.t());
        var loss = F.cross_entropy(logits, labels);
        _optimizer.zero_grad();
        loss.backward();
        _optimizer.step();
        var accuracy = logits.argmax(-1).eq(labels).to(ScalarType.Float32).mean().item<float>();
        Step++;
        return new Dictionary<string, double>
        {
            ["loss"] = loss.item<float>(),
            ["batch_top1"] = accuracy,
            ["scale"] = scale.item<float>(),
            ["fbsp"] = fbsp ? 1 : 0,
        };
    }

    /// <summary>
    /// A batch of clips of similar length: <see cref="AudioClipTrainingOptions.BatchSize"/> distinct clips drawn from a
    /// random window of twice as many neighbours in length order. A batch is padded to its longest clip, and a head
    /// trained on clips in long silences would meet unpadded clips at inference (AudioPrompt embeds one WAV as it is)
    /// with its pooled features shifted; among neighbours the padding is a fraction of a second, like espeak-ng's own
    /// leading and trailing silence.
    /// </summary>
    private int[] DrawSimilarLengths(Random random)
    {
        int window = Options.LengthWindow <= 0 ? _byLength.Length : Math.Min(_byLength.Length, Math.Max(Options.BatchSize, Options.LengthWindow));
        int start = random.Next(0, _byLength.Length - window + 1);
        var pool = _byLength[start..(start + window)];
        for (int i = 0; i < Options.BatchSize; i++)
        {
            int j = random.Next(i, window);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..Options.BatchSize];
    }

    /// <summary><paramref name="length"/> rounded up to a multiple of <paramref name="multiple"/>: a few distinct batch shapes let the allocator reuse its blocks.</summary>
    private static long RoundUp(long length, long multiple) => (length + multiple - 1) / multiple * multiple;

    /// <summary>Each clip's row among the batch's distinct captions (the cross-entropy label) and those captions' text rows.</summary>
    private (Tensor Labels, Tensor Columns) Targets(int[] batch)
    {
        var columns = new List<long>();
        var labels = new long[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            int k = columns.IndexOf(_textIndex[batch[i]]);
            if (k < 0) { k = columns.Count; columns.Add(_textIndex[batch[i]]); }
            labels[i] = k;
        }
        return (tensor(labels), tensor(columns.ToArray()));
    }

    /// <summary>
    /// The step's augmentation draws (<see cref="DecibelAugmentation"/>): a stream of its own from (seed, step), so the
    /// batches and offsets are those of an unaugmented run; null when no augmentation is set.
    /// </summary>
    private Random? AugmentationRandom(long step) =>
        DecibelAugmentation.Enabled(Options) ? new Random(ClipartBatches.StepSeed(Options.Seed ^ 0xA06A06, step)) : null;

    /// <summary>
    /// The cached decibel inputs of the batch [B, 1, bands, F, T], each augmented when <paramref name="augment"/> is
    /// given, at a random offset in silence as long as the batch's longest.
    /// </summary>
    private Tensor DecibelBatch(int[] batch, Random random, Random? augment = null)
    {
        var cached = Decibels();
        long longest = RoundUp(batch.Max(i => cached[i].shape[^1]), 32);
        var padded = batch.Select(i =>
        {
            long frames = cached[i].shape[^1];
            var clip = augment is null ? cached[i] : DecibelAugmentation.Apply(cached[i], Options, augment);
            long left = random.NextInt64(0, longest - frames + 1);
            return F.pad(clip, [left, longest - frames - left], value: SilenceDb);
        }).ToList();
        return stack(padded).unsqueeze(1);
    }

    /// <summary>The batch's samples [B, L] (int16 range), each at a random offset (whole hops) in zeros as long as the longest.</summary>
    private Tensor RawBatch(int[] batch, Random random)
    {
        var clips = batch.Select(i => AudioClipInput.Load(_paths[i], _model.Config)).ToList();
        long longest = RoundUp(clips.Max(c => c.shape[^1]), 32L * Options.HopLength);
        var padded = clips.Select(c =>
        {
            long hops = (longest - c.shape[^1]) / Options.HopLength;
            long left = random.NextInt64(0, hops + 1) * Options.HopLength;
            return F.pad(c.squeeze(0), [left, longest - c.shape[^1] - left]);
        }).ToList();
        return stack(padded);
    }

    /// <summary>The first step of the frozen-statistics phase (<see cref="AudioClipTrainingOptions.FrozenBatchNormSteps"/>).</summary>
    private long FreezeStep => Math.Max(0, Options.Steps - Options.FrozenBatchNormSteps);

    public bool BatchNormFrozen => Options.FrozenBatchNormSteps > 0 && Step >= FreezeStep;

    /// <summary>
    /// Measures batch norm's running statistics afresh and freezes them. Measured on 600 clips after 200 steps: with
    /// live batch statistics the head picked a batch's captions 25–44% of the time in training mode but 6–28% in
    /// evaluation mode on the same batches (the share of silence and padding, at −180 dB or below, moves every batch's
    /// statistics), and a prompt is embedded alone, in evaluation mode. Frozen from the start, the head learned far
    /// more slowly (7% on its batches after 200 steps). So the run trains with live statistics, then measures them as
    /// the cumulative average over <see cref="CalibrationBatches"/> batches (momentum null) and trains its last steps in
    /// evaluation mode: each norm a fixed affine map whose scale and shift still learn, training and inference the
    /// same function.
    /// </summary>
    private void CalibrateBatchNorm()
    {
        var norms = _model.modules().OfType<BatchNorm2d>().ToList();
        Decibels();
        using var _ = no_grad();
        _model.train();
        foreach (var bn in norms) { bn.reset_running_stats(); bn.momentum = null; }
        for (int k = 0; k < CalibrationBatches; k++)
        {
            FinalizerFence.Run(() =>
            {
                using var scope = NewDisposeScope();
                var random = new Random(ClipartBatches.StepSeed(Options.Seed ^ 0xCA1B, k));
                _model.audio.Embed(DecibelBatch(DrawSimilarLengths(random), random));
            });
        }
        foreach (var bn in norms) bn.momentum = 0.1;
        _model.eval();
    }

    public const int CalibrationBatches = 16;

    /// <summary>Every training clip's decibel input [bands, F, T] through the Fourier basis at its initialisation, computed once.</summary>
    private Tensor[] Decibels()
    {
        if (_decibels is not null) return _decibels;
        var started = DateTime.UtcNow;
        var result = new Tensor[_paths.Length];
        using (no_grad())
        {
            const int group = 16;
            for (int start = 0; start < _paths.Length; start += group)
            {
                FinalizerFence.Run(() =>
                {
                    for (int i = start; i < Math.Min(_paths.Length, start + group); i++)
                    {
                        using var scope = NewDisposeScope();
                        var samples = AudioClipInput.Load(_paths[i], _model.Config);
                        result[i] = _model.audio.DecibelInput(samples)[0, 0].contiguous().DetachFromDisposeScope();
                    }
                });
            }
        }
        _report?.Invoke($"decibel inputs of {_paths.Length} clips cached ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");
        return _decibels = result;
    }

    /// <summary>Held-out audio-to-caption retrieval: the first <paramref name="heldOutScenes"/> held-out captions in the held-out voice.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(int heldOutScenes)
    {
        var clips = SpokenCaptions.HeldOut(heldOutScenes);
        var paths = SpokenCaptions.Synthesize(clips, Path.Combine(Options.CacheDirectory, "held-out"));
        var r = SpokenCaptionRetrieval.Run(_model, _clip, clips, paths);
        return new Dictionary<string, double>
        {
            ["top1"] = r.Top1,
            ["top5"] = r.Top5,
            ["chance"] = r.Chance,
            ["own_cosine"] = r.MeanOwnCosine,
        };
    }

    public void SaveCheckpoint(string directory) =>
        TrainingCheckpoint.Save(directory, CheckpointKind, Step, Options.ToJson(), _model, _optimizer);

    /// <summary>
    /// Writes the head as AudioCLIP safetensors (<see cref="AudioClipLoader.Save"/>: <c>audio.*</c>, the temperatures,
    /// hop length in the metadata) without CLIP towers: it pairs with the CLIP it was trained against, named in the
    /// metadata (<c>clip</c>). <c>logit_scale_ai</c> takes the learned audio–text temperature: the head lives in the
    /// CLIP's text space, which the CLIP's training aligned with its images.
    /// </summary>
    public void Export(string path)
    {
        using (no_grad()) _model.logit_scale_ai.copy_(_model.logit_scale_at);
        AudioClipLoader.Save(_model, path, withClip: false,
            extraMetadata: new Dictionary<string, string> { ["clip"] = Path.GetFileName(Options.ClipPath) });
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _text.Dispose();
        foreach (var d in _decibels ?? []) d.Dispose();
        if (OwnsClip) _clip.Dispose();
    }
}
