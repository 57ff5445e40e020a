using TorchSharp;
using VqganClip.Clipart.Judge;
using VqganClip.Models.Pix2Pix;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Training.Pix2Pix;

/// <summary>
/// Trains a pix2pix U-Net to colour clipart outline drawings (<see cref="ClipartPairs"/>) against a PatchGAN, with
/// upstream's objective and optimiser (<see cref="Pix2PixObjective"/>: optimize_parameters). Weights seeded from
/// <see cref="Pix2PixTrainingOptions.Seed"/> (init_weights normal 0.02); batches are functions of (seed, step), and
/// dropout's masks come from torch's global generator re-seeded from (seed, step) before every step, so a resumed run
/// continues exactly. Exports the generator (safetensors, upstream's names, configuration in the metadata).
/// </summary>
public sealed class Pix2PixTrainer : ITrainer
{
    public const string CheckpointKind = "pix2pix";

    private readonly UnetGenerator _g;
    private readonly NLayerDiscriminator _d;
    private readonly Pix2PixObjective _objective;
    private readonly TrainedPair _modules;
    private readonly int _renderThreads;
    private readonly SceneJudge? _judge;

    /// <param name="judge">Grades held-out colourings in <see cref="Evaluate"/>; null leaves those figures NaN.</param>
    public Pix2PixTrainer(Pix2PixTrainingOptions options, int renderThreads = 0, SceneJudge? judge = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        Options = options;
        _renderThreads = renderThreads;
        _judge = judge;
        using (var _ = TorchRuntime.Seed(options.Seed)) { }
        _g = new UnetGenerator(options.GeneratorConfig()) { ImageSize = VqganClip.Clipart.SceneLayout.Size };
        _d = new NLayerDiscriminator(options.DiscriminatorConfig());
        _modules = new TrainedPair(_g, _d);
        _objective = new Pix2PixObjective(_g, _d, options.GanMode, options.LambdaL1, options.LearningRate, options.Beta1, options.Beta2);
    }

    /// <summary>Continues a run from a checkpoint folder; <paramref name="steps"/> extends or shortens its plan.</summary>
    public static Pix2PixTrainer Resume(string checkpointDirectory, long? steps = null, int renderThreads = 0, SceneJudge? judge = null)
    {
        var (step, json) = TrainingCheckpoint.ReadState(checkpointDirectory, CheckpointKind);
        var options = Pix2PixTrainingOptions.FromJson(json);
        if (steps is not null) options = options with { Steps = steps.Value };
        return TrainingCheckpoint.Restore(new Pix2PixTrainer(options, renderThreads, judge), t =>
        {
            TrainingCheckpoint.LoadModel(checkpointDirectory, t._modules);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._objective.OptimizerG);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._objective.OptimizerD, "d");
            t.Step = step;
        });
    }

    public Pix2PixTrainingOptions Options { get; }
    public UnetGenerator Generator => _g;
    public NLayerDiscriminator Discriminator => _d;

    public string Kind => CheckpointKind;
    public long Step { get; private set; }
    public long TotalSteps => Options.Steps;
    public string PrimaryMetric => "neg_l1";

    public IReadOnlyDictionary<string, double> TrainStep()
    {
        using var scope = NewDisposeScope();
        var (a, b, _) = ClipartPairs.Training(Options.Seed, Step, Options.BatchSize, _renderThreads);
        manual_seed(ClipartBatches.StepSeed(Options.Seed ^ 0xD0D0, Step));   // dropout masks
        var losses = _objective.OptimizeParameters(a, b);
        Step++;
        return new Dictionary<string, double>
        {
            ["loss_D"] = losses.D,
            ["loss_D_real"] = losses.DReal,
            ["loss_D_fake"] = losses.DFake,
            ["loss_G_GAN"] = losses.GGan,
            ["L1"] = losses.L1,
        };
    }

    /// <summary>Held-out L1 in evaluation mode (and its negation, the primary metric), and the judge's acceptance of the colourings.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(int heldOutScenes)
    {
        var r = Pix2PixHeldOutEval.Run(_g, heldOutScenes, _judge, trainMode: false, threads: _renderThreads);
        _g.train();   // Generate restores the mode it found; the objective keeps G training.
        return new Dictionary<string, double>
        {
            ["neg_l1"] = -r.L1,
            ["l1"] = r.L1,
            ["l1_outline"] = r.L1Outline,
            ["l1_mean_image"] = r.L1MeanImage,
            ["judge_accepts"] = r.JudgeAccepts,
            ["kind_accepts"] = r.KindAccepts,
            ["colour_accepts"] = r.ColourAccepts,
            ["kinds_at_places"] = r.KindsAtPlaces,
        };
    }

    public void SaveCheckpoint(string directory) =>
        TrainingCheckpoint.Save(directory, CheckpointKind, Step, Options.ToJson(), _modules, _objective.OptimizerG,
            moreOptimizers: [("d", _objective.OptimizerD)]);

    /// <summary>Writes the generator (<see cref="UnetGenerator.Save"/>: upstream's names, configuration in the metadata).</summary>
    public void Export(string path) => _g.Save(path);

    public void Dispose()
    {
        _objective.Dispose();
        _g.Dispose();
        _d.Dispose();
    }

    private sealed class TrainedPair : nn.Module
    {
        public TrainedPair(UnetGenerator g, NLayerDiscriminator d) : base("Pix2PixTraining")
        {
            register_module("G", g);
            register_module("D", d);
        }
    }
}
