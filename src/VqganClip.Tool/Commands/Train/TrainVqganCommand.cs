using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Training;
using VqganClip.Models.Runtime;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train vqgan</c>: trains the clipart VQGAN (<see cref="ClipartVqganArchitecture"/>) and exports
/// taming-layout safetensors plus the taming YAML beside it. Resumable from its run folder.
/// </summary>
public static class TrainVqganCommand
{
    public const string DefaultOutput = "data/clipart-vqgan.safetensors";

    public static Command Create()
    {
        var defaults = new VqganTrainingOptions();
        var steps = new Option<long?>("--steps") { Description = $"Training steps (default {defaults.Steps}; with --resume: the run's own plan)" };
        var batch = new Option<int>("--batch") { Description = "Scenes per step", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak Adam learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights and the training scenes", DefaultValueFactory = _ => defaults.Seed };
        var wholeFraction = new Option<double?>("--whole-fraction") { Description = $"Fraction of the steps, at the end, on whole scenes instead of crops (default {defaults.FullImageFraction}; the shipped model used 0.2)" };
        var crop = new Option<int?>("--crop") { Description = $"Random crop side for the first steps (0 = whole scenes; default {defaults.CropSize}; with --resume: overrides the run's)" };
        var output = new Option<string>("--out") { Description = "Exported model (.safetensors; the .yaml goes beside it)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/ and best/ (default runs/vqgan-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 1 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between held-out evaluations (best/ keeps the best export)", DefaultValueFactory = _ => 500 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 100 };
        var evalScenes = new Option<int>("--eval-scenes") { Description = "Held-out scenes of the periodic evaluations (the final one uses 1000)", DefaultValueFactory = _ => 200 };
        var initFrom = new Option<string?>("--init-from") { Description = "Start from an exported model's weights (same architecture) instead of random ones" };
        var decoderOnly = new Option<bool>("--decoder-only") { Description = "Train only post_quant_conv and the decoder of the --init-from model: its encoder and codebook stay, so every picture keeps its codes (and a transformer trained on them still fits); no codebook restarts" };
        var standardVq = new Option<bool>("--standard-vq-loss") { Description = "VQ-VAE's loss (beta on the commitment term) instead of taming's legacy one (beta on the codebook term); the exported model is the same either way" };
        var architecture = new Option<string>("--architecture") { Description = "f4 (the shipped 16x16-latent VQGAN) or f8 (8x8 latent, the clipart transformer's first stage); a resumed run keeps its own", DefaultValueFactory = _ => "f4" };
        architecture.AcceptOnlyFromAmong([.. ClipartVqganArchitecture.Names]);
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("vqgan", "Train the clipart VQGAN (taming VQModel) and export it as safetensors + taming YAML")
        {
            steps, batch, lr, seed, crop, wholeFraction, output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, printEvery, initFrom, decoderOnly, standardVq, architecture,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            int renderThreads = Math.Max(1, parse.GetValue(threads));
            VqganTrainer trainer;
            string runDirectory;
            if (parse.GetValue(resume) is { } resumePath)
            {
                var (runDir, checkpointDir) = TrainingConsole.ResolveResume(resumePath);
                trainer = VqganTrainer.Resume(checkpointDir, parse.GetValue(steps), renderThreads, parse.GetValue(crop));
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
                    CropSize = parse.GetValue(crop) ?? defaults.CropSize,
                    FullImageFraction = parse.GetValue(wholeFraction) ?? defaults.FullImageFraction,
                    DecoderOnly = parse.GetValue(decoderOnly),
                    RestartEvery = parse.GetValue(decoderOnly) ? 0 : defaults.RestartEvery,
                    Model = ClipartVqganArchitecture.Named(parse.GetValue(architecture)!) with { LegacyLoss = !parse.GetValue(standardVq) },
                };
                if (options.DecoderOnly && parse.GetValue(initFrom) is null)
                    throw new ArgumentException("--decoder-only trains the decoder of a trained model: give it with --init-from FILE.");
                trainer = new VqganTrainer(options, renderThreads);
                if (parse.GetValue(initFrom) is { } init) trainer.InitializeFrom(init);
                runDirectory = parse.GetValue(run) ?? TrainingConsole.RepoPath(Path.Combine("runs", $"vqgan-{DateTime.Now:yyyyMMdd-HHmmss}"));
            }
            using (trainer)
            {
                var session = new TrainingSessionOptions(runDirectory, TrainingConsole.RepoPath(parse.GetValue(output)!),
                    parse.GetValue(checkpointEvery), parse.GetValue(evalEvery), parse.GetValue(evalScenes));
                return TrainingConsole.Run(trainer, session,
                    ["loss", "batch_psnr", "vq", "codes_used_window", "codes_restarted", "skipped", "lr"],
                    ["psnr", "psnr_pooled", "codes_used", "perplexity"], parse.GetValue(printEvery));
            }
        });
        return command;
    }
}
