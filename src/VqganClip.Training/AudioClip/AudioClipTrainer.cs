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

            _clips = SpokenCaptions.Training(options.Seed, options.TrainingClips);
            var started = DateTime.UtcNow;
            _paths = SpokenCaptions.Synthesize(_clips, options.CacheDirectory, synthesizer,
                progress: (n, all) => _report?.Invoke($"spoken captions: {n}/{all} synthesised"));
            _report?.Invoke($"spoken captions: {_clips.Length} in {options.CacheDirectory} ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");

            var unique = _clips.Select(c => c.Caption).Distinct().ToList();
            var row = unique.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
            _textIndex = _clips.Select(c => row[c.Caption]).ToArray();
            _text = CaptionEmbeddings.Encode(_clip, unique);

            using (var _ = TorchRuntime.Seed(options.Seed)) { _model = new AudioClipModel(options.HeadConfig(_clip.EmbedDim)); }
            using (no_grad()) _model.logit_scale_at.fill_(Math.Log(1 / 0.07));   // CLIP's initial temperature; upstream clamps exp at 100
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
        var trainer = new AudioClipTrainer(options, clip, synthesizer, report);
        try
        {
            TrainingCheckpoint.LoadModel(checkpointDirectory, trainer._model);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, trainer._optimizer);
            trainer.Step = step;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
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
        using var scope = NewDisposeScope();
        var random = new Random(ClipartBatches.StepSeed(Options.Seed, Step));
        var batch = Draw(random, _clips.Length, Options.BatchSize);
        bool fbsp = FbspLearning;
        foreach (var p in _fbsp) p.requires_grad = fbsp;
        double factor = RateFactor(Step);
        var groups = _optimizer.ParamGroups.ToArray();
        groups[0].LearningRate = Options.LearningRate * factor;
        groups[1].LearningRate = Options.FbspLearningRate * factor;

        var audio = fbsp ? _model.audio.forward(RawBatch(batch, random)) : _model.audio.Embed(DecibelBatch(batch, random));
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

    /// <summary><paramref name="count"/> distinct indices below <paramref name="n"/> (a partial Fisher–Yates shuffle).</summary>
    private static int[] Draw(Random random, int n, int count)
    {
        var all = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..count];
    }

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

    /// <summary>The cached decibel inputs of the batch [B, 1, bands, F, T], each at a random offset in silence as long as the batch's longest.</summary>
    private Tensor DecibelBatch(int[] batch, Random random)
    {
        var cached = Decibels();
        long longest = batch.Max(i => cached[i].shape[^1]);
        var padded = batch.Select(i =>
        {
            long frames = cached[i].shape[^1];
            long left = random.NextInt64(0, longest - frames + 1);
            return F.pad(cached[i], [left, longest - frames - left], value: SilenceDb);
        }).ToList();
        return stack(padded).unsqueeze(1);
    }

    /// <summary>The batch's samples [B, L] (int16 range), each at a random offset (whole hops) in zeros as long as the longest.</summary>
    private Tensor RawBatch(int[] batch, Random random)
    {
        var clips = batch.Select(i => AudioClipInput.Load(_paths[i], _model.Config)).ToList();
        long longest = clips.Max(c => c.shape[^1]);
        var padded = clips.Select(c =>
        {
            long hops = (longest - c.shape[^1]) / Options.HopLength;
            long left = random.NextInt64(0, hops + 1) * Options.HopLength;
            return F.pad(c.squeeze(0), [left, longest - c.shape[^1] - left]);
        }).ToList();
        return stack(padded);
    }

    /// <summary>Every training clip's decibel input [bands, F, T] through the Fourier basis at its initialisation, computed once.</summary>
    private Tensor[] Decibels()
    {
        if (_decibels is not null) return _decibels;
        var started = DateTime.UtcNow;
        var result = new Tensor[_paths.Length];
        using (no_grad())
        {
            for (int i = 0; i < _paths.Length; i++)
            {
                using var scope = NewDisposeScope();
                var samples = AudioClipInput.Load(_paths[i], _model.Config);
                result[i] = _model.audio.DecibelInput(samples)[0, 0].contiguous().DetachFromDisposeScope();
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
