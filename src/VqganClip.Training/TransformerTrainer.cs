using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Guidance.Optimization;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// Trains VQGAN's second stage on clipart scenes: taming's GPT (<see cref="Gpt"/>) over the codes of a frozen
/// first-stage VQGAN, conditioned on the scene's caption through <see cref="CaptionConditioning"/>, with taming's
/// Net2NetTransformer objective: logits of <c>cat(c, z)[:, :-1]</c>, those from the last caption position on,
/// cross-entropy against the codes <c>z</c>. AdamW (minGPT's betas 0.9/0.95, decay on Linear weights only),
/// warm-up and cosine decay, gradient-norm clip. Every step draws new scenes, so there is no epoch and no
/// overfitting to watch for; the held-out evaluation reports cross-entropy, token accuracy, and how often a
/// sampled picture satisfies its caption (the independent judge).
/// </summary>
public sealed class TransformerTrainer : ITrainer
{
    public const string CheckpointKind = "transformer";

    private readonly Net2NetTransformer _model;
    private readonly CaptionConditioning _captions;
    private readonly AdamW _optimizer;
    private readonly ISchedule _schedule;
    private readonly Parameter[] _parameters;
    private readonly int _renderThreads;
    private readonly SceneJudge? _judge;

    /// <summary>A fresh run: seeds torch, loads the frozen first stage, builds the GPT with taming's initialisation.</summary>
    /// <param name="captionWords">Every word the captions can contain (their BPE tokens become the caption vocabulary).</param>
    /// <param name="judge">Grades sampled pictures in <see cref="Evaluate"/>; null skips that figure.</param>
    public TransformerTrainer(TransformerTrainingOptions options, IEnumerable<string> captionWords, int renderThreads = 0, SceneJudge? judge = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(captionWords);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        Options = options;
        _renderThreads = renderThreads;
        _judge = judge;

        var firstStage = VqganModel.Load(options.FirstStage);
        try
        {
            var (_, h, w) = firstStage.LatentShape(SceneLayout.Size, SceneLayout.Size);
            _captions = CaptionConditioning.FromWords(captionWords, firstStage.Config.NEmbed, options.CaptionLength);
            var gptConfig = new GptConfig
            {
                VocabSize = _captions.VocabularyNeeded,
                BlockSize = options.CaptionLength + h * w,
                NLayer = options.Layers,
                NHead = options.Heads,
                NEmbd = options.Width,
                // taming's n_unmasked: the caption prefix sees itself both ways; the image codes stay causal
                NUnmasked = options.CaptionLength,
                EmbdPdrop = options.Dropout,
                ResidPdrop = options.Dropout,
                AttnPdrop = options.Dropout,
            };
            var config = new TransformerConfig
            {
                Gpt = gptConfig,
                FirstStage = firstStage.Config,
                Conditioning = ConditioningConfig.Caption(_captions.Offset, _captions.ContextLength,
                    options.OneObjectPlace == ScenePosition.Middle ? CaptionPlacement.Middle : CaptionPlacement.AsCaptioned),
                FirstStageKey = "image",
                CondStageKey = "caption",
                Source = "clipart transformer trainer",
            };
            using var init = new Generator((ulong)options.Seed);
            _model = new Net2NetTransformer(config, firstStage, new Gpt(gptConfig, init), captionStage: _captions);
        }
        catch
        {
            firstStage.Dispose();
            throw;
        }
        _model.Transformer.train();
        _parameters = _model.Transformer.parameters().ToArray();
        foreach (var p in _parameters) p.requires_grad = true;

        // minGPT's configure_optimizers: decay Linear weights; not biases, LayerNorm weights, embeddings or pos_emb.
        var (decay, noDecay) = _model.Transformer.OptimizerGroups();
        _optimizer = optim.AdamW(
            [new AdamW.ParamGroup(decay.Select(d => d.Parameter), new AdamW.Options { weight_decay = options.WeightDecay }),
             new AdamW.ParamGroup(noDecay.Select(d => d.Parameter), new AdamW.Options { weight_decay = 0 })],
            lr: options.LearningRate, beta1: 0.9, beta2: 0.95);
        _schedule = Schedules.WarmupCosine(checked((int)options.WarmupSteps), checked((int)options.Steps));
    }

    /// <summary>Continues a run from a checkpoint folder; <paramref name="steps"/> extends or shortens its plan.</summary>
    public static TransformerTrainer Resume(string checkpointDirectory, IEnumerable<string> captionWords, long? steps = null, int renderThreads = 0, SceneJudge? judge = null)
    {
        var (step, json) = TrainingCheckpoint.ReadState(checkpointDirectory, CheckpointKind);
        var options = TransformerTrainingOptions.FromJson(json);
        if (steps is not null) options = options with { Steps = steps.Value };
        return TrainingCheckpoint.Restore(new TransformerTrainer(options, captionWords, renderThreads, judge), t =>
        {
            TrainingCheckpoint.LoadModel(checkpointDirectory, t._model.Transformer);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._optimizer);
            t.Step = step;
        });
    }

    public TransformerTrainingOptions Options { get; }
    public Net2NetTransformer Model => _model;
    public string Kind => CheckpointKind;
    public long Step { get; private set; }
    public long TotalSteps => Options.Steps;
    public string PrimaryMetric => "neg_ce";

    public IReadOnlyDictionary<string, double> TrainStep()
    {
        double lr = _schedule.LearningRate(checked((int)Step), Options.LearningRate);
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = lr;

        using var scope = NewDisposeScope();
        var (specs, captions) = ClipartBatches.ScenesWithOneObjectBigShare(Options.Seed, Step, Options.BatchSize, Options.OneObjectBigShare, Options.OneObjectPlace,
            Options.OneObjectCanonical);
        if (Options.CaptionDropout > 0)
        {
            var drop = new Random(ClipartBatches.StepSeed(Options.Seed ^ 0xCA97, Step));
            for (int i = 0; i < captions.Length; i++)
                if (drop.NextDouble() < Options.CaptionDropout) captions[i] = "";
        }
        var (logits, target) = TransformerHeldOutEval.Forward(_model, specs, captions, _renderThreads);   // render, encode, condition: taming's training forward
        var loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), target.reshape(-1));

        _optimizer.zero_grad();
        loss.backward();
        double gradNorm = nn.utils.clip_grad_norm_(_parameters, Options.GradClip > 0 ? Options.GradClip : double.MaxValue);
        float lossValue = loss.item<float>();
        bool skipped = !double.IsFinite(gradNorm) || !float.IsFinite(lossValue);
        if (skipped) _optimizer.zero_grad();
        else _optimizer.step();
        Step++;

        double accuracy;
        using (no_grad()) accuracy = logits.argmax(-1).eq(target).to(ScalarType.Float32).mean().item<float>();
        return new Dictionary<string, double>
        {
            ["loss"] = lossValue,
            ["token_accuracy"] = accuracy,
            ["lr"] = lr,
            ["grad_norm"] = gradNorm,
            ["skipped"] = skipped ? 1 : 0,
        };
    }

    public IReadOnlyDictionary<string, double> Evaluate(int heldOutScenes)
    {
        _model.Transformer.eval();
        try
        {
            var figures = TransformerHeldOutEval.Run(_model, heldOutScenes, renderThreads: _renderThreads);
            var metrics = new Dictionary<string, double>
            {
                ["ce"] = figures.CrossEntropy,
                ["neg_ce"] = -figures.CrossEntropy,
                ["token_accuracy"] = figures.TokenAccuracy,
            };
            if (_judge is not null)
            {
                using var noGrad = no_grad();
                var (_, captions) = ClipartBatches.HeldOut(Math.Min(64, heldOutScenes));   // the first 64 of the scenes above
                var (satisfied, kindRight) = JudgeSamples(captions);
                metrics["satisfied"] = satisfied;
                metrics["kind_right"] = kindRight;
            }
            return metrics;
        }
        finally
        {
            _model.Transformer.train();
        }
    }

    /// <summary>
    /// Fractions of held-out captions whose sampled picture (top-k 16, temperature 1, seeded) the judge accepts, and
    /// whose every object is of the kind the caption names (the judge's kind checks alone). The second is the figure
    /// that tells a better GPT apart: the samples' colours and places are mostly right long before their shapes are.
    /// </summary>
    private (double Satisfied, double KindRight) JudgeSamples(string[] captions)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)ClipartBatches.StepSeed(Options.Seed ^ 0x5A3F, 0));
        var c = _captions.EncodeText(captions);
        var (_, h, w) = _model.FirstStage.LatentShape(SceneLayout.Size, SceneLayout.Size);
        var codes = _model.Sample(c, h * w, new SamplingOptions { TopK = 16, Temperature = 1.0, Generator = generator });
        var pictures = ((_model.DecodeToImage(codes, h, w) + 1) / 2).clamp(0, 1);
        int satisfied = 0, kindRight = 0;
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            for (int i = 0; i < captions.Length; i++)
            {
                var verdict = _judge!.Judge(pictures[i], CaptionParser.Parse(captions[i]));
                if (verdict.Satisfied) satisfied++;
                if (verdict.KindsRight) kindRight++;
            }
        }
        finally { set_num_threads(threads); }
        return ((double)satisfied / captions.Length, (double)kindRight / captions.Length);
    }

    public void SaveCheckpoint(string directory) =>
        TrainingCheckpoint.Save(directory, CheckpointKind, Step, Options.ToJson(), _model.Transformer, _optimizer);

    /// <summary>
    /// Writes <paramref name="path"/> (.safetensors with taming's Net2NetTransformer names: cond_stage_model.bpe_ids,
    /// transformer.*) and its project YAML beside it (same stem, .yaml); the first stage goes to its own VQGAN file beside
    /// them (the first stage's file name, .safetensors + .yaml; <c>&lt;export&gt;-first-stage.safetensors</c> where a file of
    /// that name already holds other weights), which the project YAML names as
    /// <c>first_stage_config.params.ckpt_path</c>. Two files, so neither grows past what a repository should track and the
    /// first stage also loads as a plain VQGAN.
    /// </summary>
    public void Export(string path)
    {
        var full = Path.GetFullPath(path);
        var step = Step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var firstStageName = FirstStageFileName(Options.FirstStage, full);
        var firstStagePath = Path.Combine(Path.GetDirectoryName(full)!, firstStageName);
        bool isSource = string.Equals(Path.GetFullPath(Options.FirstStage), firstStagePath, StringComparison.Ordinal);
        // A file of that name beside the export holding other weights is another transformer's first stage (two GPTs
        // over two VQGANs of the same file name exported into one folder): that transformer's YAML names it, so it is
        // kept, and this first stage takes the export's own name.
        if (!isSource && File.Exists(firstStagePath) && !HoldsWeights(firstStagePath, _model.FirstStage))
        {
            firstStageName = Path.GetFileNameWithoutExtension(full) + "-first-stage.safetensors";
            firstStagePath = Path.Combine(Path.GetDirectoryName(full)!, firstStageName);
        }
        // A first stage that already lies beside the export (the shipped data/clipart-vqgan.safetensors) is left as it is:
        // it is frozen, so the file holds the same weights, and rewriting it would only change its metadata.
        if (!isSource)
            VqganTrainer.Export(_model.FirstStage, firstStagePath, Step,
                $"vqgan-clip train transformer (its frozen first stage, from {Path.GetFileName(Options.FirstStage)})");
        _model.Save(full, new Dictionary<string, string>
        {
            ["producer"] = "vqgan-clip train transformer",
            ["step"] = step,
        }, firstStageFile: firstStageName);
    }

    /// <summary>Whether the safetensors file at <paramref name="path"/> holds exactly <paramref name="model"/>'s tensors
    /// (a file that does not read as one counts as other weights, so it is never overwritten).</summary>
    internal static bool HoldsWeights(string path, VqganModel model)
    {
        try
        {
            using var file = SafeTensors.Read(path);
            var mine = model.state_dict();
            return file.Count == mine.Count && mine.All(kv => file.TryGetValue(kv.Key, out var t) && StateDict.SameTensor(t, kv.Value));   // the first stage is frozen: no graph to detach from
        }
        catch (Exception e) when (e is CheckpointFormatException or IOException)
        {
            return false;
        }
    }

    /// <summary>The first stage's file name beside an export: the first stage's own name as .safetensors, unless that is the export's name.</summary>
    public static string FirstStageFileName(string firstStage, string exportPath)
    {
        var name = Path.GetFileNameWithoutExtension(firstStage) + ".safetensors";
        return string.Equals(name, Path.GetFileName(exportPath), StringComparison.Ordinal)
            ? Path.GetFileNameWithoutExtension(firstStage) + "-first-stage.safetensors"
            : name;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}
