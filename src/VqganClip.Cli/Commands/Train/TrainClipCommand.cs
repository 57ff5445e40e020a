using System.CommandLine;
using Spectre.Console;
using VqganClip.Guidance;
using VqganClip.Guidance.Training;
using VqganClip.Models.Runtime;

namespace VqganClip.Cli.Commands.Train;

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
        var noise = new Option<double?>("--noise") { Description = $"Standard deviation of the pixel noise added to every view (default {defaults.Augment.NoiseStd})" };
        var patchSize = new Option<int?>("--patch-size") { Description = $"Image tower patch side in pixels (default {defaults.Model.VisionPatchSize}; must divide {defaults.Model.ImageResolution})" };
        var tower = new Option<string>("--image-tower") { Description = "Image tower: vit (openai/CLIP's VisionTransformer) or resnet (its ModifiedResNet)", DefaultValueFactory = _ => "vit" };
        var resnetWidth = new Option<int>("--resnet-width") { Description = "ModifiedResNet stem width (RN50: 64); the trunk ends at 32x this", DefaultValueFactory = _ => 16 };
        var resnetLayers = new Option<string>("--resnet-layers") { Description = "ModifiedResNet bottleneck counts of layer1..layer4, comma-separated (RN50: 3,4,6,3)", DefaultValueFactory = _ => "1,1,1,1" };
        var imageSize = new Option<int?>("--image-size") { Description = "resnet tower: input resolution the 64-pixel scenes are upsampled to (128: a 4x4 final grid instead of 2x2; default 64)" };
        var warmup = new Option<long>("--warmup") { Description = "Linear warm-up steps before the cosine decay", DefaultValueFactory = _ => defaults.WarmupSteps };
        var kindVariants = new Option<int>("--kind-variants") { Description = "Hard negatives: each scene of a batch drawn with one object as this many kinds (1 = independent scenes)", DefaultValueFactory = _ => defaults.KindVariants };
        var adversarialEps = new Option<double>("--adversarial-eps") { Description = "L2 radius of adversarial views (pixels in [0,1]; 0 = plain training)", DefaultValueFactory = _ => defaults.AdversarialEps };
        var adversarialSteps = new Option<int>("--adversarial-steps") { Description = "Gradient-ascent steps that find each adversarial view", DefaultValueFactory = _ => defaults.AdversarialSteps };
        var init = new Option<string?>("--init") { Description = "Start from this exported CLIP's weights (fine-tuning) instead of random ones" };
        var guidedPool = new Option<int>("--guided-negatives") { Description = "Pool of VQGAN guidance chains whose pictures become negatives (0 = none; see GuidedNegativePool)", DefaultValueFactory = _ => 0 };
        var guidedVqgan = new Option<string?>("--guided-vqgan") { Description = "VQGAN the guided chains drive (default: the shipped data/clipart-vqgan.safetensors)" };
        var guidedDefaults = new GuidedNegativeOptions { VqganPath = "" };
        var guidedBatch = new Option<int>("--guided-batch") { Description = "Chains advanced and used as negatives per step", DefaultValueFactory = _ => guidedDefaults.Batch };
        var guidedSteps = new Option<int>("--guided-steps") { Description = "Guidance steps per advanced chain and training step", DefaultValueFactory = _ => guidedDefaults.StepsPerAdvance };
        var guidedMaxAge = new Option<int>("--guided-max-age") { Description = "Guidance steps after which a chain restarts", DefaultValueFactory = _ => guidedDefaults.MaxAge };
        var guidedLr = new Option<double>("--guided-lr") { Description = "Adam learning rate of the chains", DefaultValueFactory = _ => guidedDefaults.LearningRate };
        var guidedCutn = new Option<int>("--guided-cutn") { Description = "Augmented cutouts per chain and guidance step", DefaultValueFactory = _ => guidedDefaults.Cutouts };
        var blobNegatives = new Option<int>("--blob-negatives") { Description = "Scenes per step that also get a shape-free copy (an object blurred to a blob) their caption must rank below the drawing (0 = none)", DefaultValueFactory = _ => defaults.BlobNegatives };
        var blobWeight = new Option<double>("--blob-weight") { Description = "Weight of the drawing-before-blob term", DefaultValueFactory = _ => defaults.BlobWeight };
        var copyNegatives = new Option<int>("--copy-negatives") { Description = "Scenes per step that also get a copy with one object repeated elsewhere, which their caption must rank below the drawing (0 = none)", DefaultValueFactory = _ => defaults.CopyNegatives };
        var copyWeight = new Option<double>("--copy-weight") { Description = "Weight of the drawing-before-copies term", DefaultValueFactory = _ => defaults.CopyWeight };
        var guidedFlat = new Option<double>("--guided-flat-starts") { Description = "Fraction of chain starts from a blank white canvas instead of random codes", DefaultValueFactory = _ => guidedDefaults.FlatStartFraction };
        var guidedWeight = new Option<double>("--guided-weight") { Description = "Weight of the drawing-before-guided-picture term", DefaultValueFactory = _ => guidedDefaults.Weight };
        var output = new Option<string>("--out") { Description = "Exported model (.safetensors, OpenAI key names)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/ and best/ (default runs/clip-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 1 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between held-out evaluations (best/ keeps the best export)", DefaultValueFactory = _ => 250 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 50 };
        var evalScenes = new Option<int>("--eval-scenes") { Description = "Held-out scenes of the periodic evaluations (the final one uses 1000)", DefaultValueFactory = _ => 300 };
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("clip", "Train the clipart CLIP (ViT or ModifiedResNet image tower) contrastively and export OpenAI-layout safetensors")
        {
            steps, batch, lr, seed, minScale, cropProbability, noise, patchSize, tower, resnetWidth, resnetLayers, imageSize, warmup, kindVariants, adversarialEps, adversarialSteps, init, guidedPool, guidedVqgan, guidedBatch, guidedSteps, guidedMaxAge, guidedLr, guidedCutn, guidedWeight, guidedFlat, blobNegatives, blobWeight, copyNegatives, copyWeight, output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, printEvery,
        };
        command.SetAction(parse => UserErrors.Guard(AnsiConsole.Console, () =>
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
                    Model = ImageTower(parse.GetValue(tower)!, parse.GetValue(patchSize), parse.GetValue(resnetWidth), parse.GetValue(resnetLayers)!, defaults.Model, parse.GetValue(imageSize)),
                    KindVariants = parse.GetValue(kindVariants),
                    BlobNegatives = parse.GetValue(blobNegatives),
                    BlobWeight = parse.GetValue(blobWeight),
                    CopyNegatives = parse.GetValue(copyNegatives),
                    CopyWeight = parse.GetValue(copyWeight),
                    AdversarialEps = parse.GetValue(adversarialEps),
                    AdversarialSteps = parse.GetValue(adversarialSteps),
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
                            FlatStartFraction = parse.GetValue(guidedFlat),
                        }
                        : parse.GetValue(guidedPool) < 0 ? throw new ArgumentException($"--guided-negatives must not be negative (got {parse.GetValue(guidedPool)}).") : null,
                    Augment = defaults.Augment with
                    {
                        MinScale = parse.GetValue(minScale) ?? defaults.Augment.MinScale,
                        CropProbability = parse.GetValue(cropProbability) ?? defaults.Augment.CropProbability,
                        NoiseStd = parse.GetValue(noise) ?? defaults.Augment.NoiseStd,
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
        }));
        return command;
    }

    /// <summary>The architecture <c>--image-tower</c> and its size options describe.</summary>
    public static VqganClip.Models.Clip.ClipConfig ImageTower(string tower, int? patchSize, int resnetWidth, string resnetLayers, VqganClip.Models.Clip.ClipConfig vit, int? imageSize = null)
    {
        switch (tower.Trim().ToLowerInvariant())
        {
            case "vit":
                if (imageSize is not null) throw new ArgumentException("--image-size applies to the resnet image tower only; a vit tower reads the scenes at their own 64 pixels.");
                return vit with { VisionPatchSize = patchSize ?? vit.VisionPatchSize };
            case "resnet":
                if (patchSize is not null) throw new ArgumentException("--patch-size applies to the vit image tower only; a resnet tower has no patches.");
                var counts = resnetLayers.Split(',', StringSplitOptions.TrimEntries).Select(part =>
                    int.TryParse(part, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n)
                        ? n : throw new ArgumentException($"--resnet-layers: '{part}' is not a whole number (expected four counts such as 1,1,1,1).")).ToArray();
                return ClipartClipArchitecture.ResNet(resnetWidth, counts, imageSize ?? 64);
            default:
                throw new ArgumentException($"--image-tower must be vit or resnet (got '{tower}').");
        }
    }
}
