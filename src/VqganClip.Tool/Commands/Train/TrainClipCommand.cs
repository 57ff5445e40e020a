using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Guidance;
using VqganClip.Training;
using VqganClip.Models.Runtime;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train clip</c>: trains the clipart CLIP (<see cref="ClipartClipArchitecture"/>) contrastively on
/// captioned scenes and exports OpenAI-layout safetensors. Resumable from its run folder.
/// </summary>
public static class TrainClipCommand
{
    public const string DefaultOutput = "data/clipart-clip.safetensors";

    public static Command Create()
    {
        var defaults = new ClipTrainingOptions();
        var steps = new Option<long?>("--steps") { Description = $"Training steps (default {defaults.Steps}; with --resume: the run's own plan)" };
        var batch = new Option<int>("--batch") { Description = "Image/caption pairs per step (the contrastive batch)", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak Adam learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, scenes and augmentations", DefaultValueFactory = _ => defaults.Seed };
        var minScale = new Option<double?>("--crop-scale") { Description = $"Smallest area fraction of the random resized crops (default {defaults.Augment.MinScale}; with --resume: overrides the run's)" };
        var cropProbability = new Option<double?>("--crop-prob") { Description = $"Probability that a view is a random resized crop rather than the whole scene (default {defaults.Augment.CropProbability}; with --resume: overrides the run's)" };
        var warmup = new Option<long>("--warmup") { Description = "Linear warm-up steps before the cosine decay", DefaultValueFactory = _ => defaults.WarmupSteps };
        var kindVariants = new Option<int>("--kind-variants") { Description = "Hard negatives: each scene of a batch drawn with one object as this many kinds (1 = independent scenes)", DefaultValueFactory = _ => defaults.KindVariants };
        var init = new Option<string?>("--init") { Description = "Start from this exported CLIP's weights (fine-tuning) instead of random ones" };
        var guidedPool = new Option<int>("--guided-negatives") { Description = "Pool of VQGAN guidance chains whose pictures become negatives (0 = none; see GuidedNegativePool)", DefaultValueFactory = _ => 0 };
        var guidedVqgan = new Option<string?>("--guided-vqgan") { Description = "VQGAN the guided chains drive (default: the shipped data/clipart-vqgan.safetensors)" };
        var guidedDefaults = new GuidedNegativeOptions { VqganPath = "" };
        var guidedBatch = new Option<int>("--guided-batch") { Description = "Chains advanced and used as negatives per step", DefaultValueFactory = _ => guidedDefaults.Batch };
        var guidedSteps = new Option<int>("--guided-steps") { Description = "Guidance steps per advanced chain and training step", DefaultValueFactory = _ => guidedDefaults.StepsPerAdvance };
        var guidedMaxAge = new Option<int>("--guided-max-age") { Description = "Guidance steps after which a chain restarts", DefaultValueFactory = _ => guidedDefaults.MaxAge };
        var guidedLr = new Option<double>("--guided-lr") { Description = "Adam learning rate of the chains", DefaultValueFactory = _ => guidedDefaults.LearningRate };
        var guidedCutn = new Option<int>("--guided-cutn") { Description = "Augmented cutouts per chain and guidance step", DefaultValueFactory = _ => guidedDefaults.Cutouts };
        var guidedWeight = new Option<double>("--guided-weight") { Description = "Weight of the drawing-before-guided-picture term", DefaultValueFactory = _ => guidedDefaults.Weight };
        var output = new Option<string>("--out") { Description = "Exported model (.safetensors, OpenAI key names)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/ and best/ (default runs/clip-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 1 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between held-out evaluations (best/ keeps the best export)", DefaultValueFactory = _ => 250 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 50 };
        var evalScenes = new Option<int>("--eval-scenes") { Description = "Held-out scenes of the periodic evaluations (the final one uses 1000)", DefaultValueFactory = _ => 300 };
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("clip", "Train the clipart CLIP contrastively and export OpenAI-layout safetensors")
        {
            steps, batch, lr, seed, minScale, cropProbability, warmup, kindVariants, init, guidedPool, guidedVqgan, guidedBatch, guidedSteps, guidedMaxAge, guidedLr, guidedCutn, guidedWeight, output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, printEvery,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            int renderThreads = Math.Max(1, parse.GetValue(threads));
            ClipTrainer trainer;
            string runDirectory;
            if (parse.GetValue(resume) is { } resumePath)
            {
                var (runDir, checkpointDir) = TrainingConsole.ResolveResume(resumePath);
                var (scale, probability) = (parse.GetValue(minScale), parse.GetValue(cropProbability));
                ClipAugment? augment = null;
                if (scale is not null || probability is not null)
                {
                    var saved = TrainingCheckpoint.ReadState(checkpointDir, ClipTrainer.CheckpointKind).Options;
                    var current = ClipTrainingOptions.FromJson(saved).Augment;
                    augment = current with { MinScale = scale ?? current.MinScale, CropProbability = probability ?? current.CropProbability };
                }
                trainer = ClipTrainer.Resume(checkpointDir, parse.GetValue(steps), renderThreads, augment);
                runDirectory = parse.GetValue(run) ?? runDir;
            }
            else
            {
                var options = defaults with
                {
                    Steps = parse.GetValue(steps) ?? defaults.Steps,
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    Seed = parse.GetValue(seed),
                    WarmupSteps = parse.GetValue(warmup),
                    KindVariants = parse.GetValue(kindVariants),
                    InitFrom = parse.GetValue(init) is { } initPath ? Path.GetFullPath(initPath) : null,
                    GuidedNegatives = parse.GetValue(guidedPool) is > 0 and var pool
                        ? new GuidedNegativeOptions
                        {
                            VqganPath = Path.GetFullPath(parse.GetValue(guidedVqgan) ?? ShippedModels.FindVqgan()?.Checkpoint
                                ?? throw new FileNotFoundException("--guided-negatives: no shipped VQGAN found; pass --guided-vqgan FILE.")),
                            PoolSize = pool,
                            Batch = parse.GetValue(guidedBatch),
                            StepsPerAdvance = parse.GetValue(guidedSteps),
                            MaxAge = parse.GetValue(guidedMaxAge),
                            LearningRate = parse.GetValue(guidedLr),
                            Cutouts = parse.GetValue(guidedCutn),
                            Weight = parse.GetValue(guidedWeight),
                        }
                        : parse.GetValue(guidedPool) < 0 ? throw new ArgumentException($"--guided-negatives must not be negative (got {parse.GetValue(guidedPool)}).") : null,
                    Augment = defaults.Augment with
                    {
                        MinScale = parse.GetValue(minScale) ?? defaults.Augment.MinScale,
                        CropProbability = parse.GetValue(cropProbability) ?? defaults.Augment.CropProbability,
                    },
                };
                trainer = new ClipTrainer(options, renderThreads);
                runDirectory = parse.GetValue(run) ?? TrainingConsole.RepoPath(Path.Combine("runs", $"clip-{DateTime.Now:yyyyMMdd-HHmmss}"));
            }
            using (trainer)
            {
                var session = new TrainingSessionOptions(runDirectory, TrainingConsole.RepoPath(parse.GetValue(output)!),
                    parse.GetValue(checkpointEvery), parse.GetValue(evalEvery), parse.GetValue(evalScenes));
                return TrainingConsole.Run(trainer, session,
                    trainer.Options.GuidedNegatives is null ? ["loss", "batch_top1", "logit_scale", "lr"] : ["loss", "batch_top1", "guided_distance", "drawing_wins", "lr"],
                    ["top1", "top1_text_to_image", "top5", "kind_top1"], parse.GetValue(printEvery));
            }
        });
        return command;
    }
}
