using System.CommandLine;
using VqganClip.Clipart.Judge;
using VqganClip.Models.Pix2Pix;
using VqganClip.Models.Runtime;
using VqganClip.Training;
using VqganClip.Training.Pix2Pix;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train pix2pix</c>: trains a small pix2pix (U-Net generator, PatchGAN, upstream's objective) to colour
/// clipart outline drawings, and exports the generator as safetensors. Resumable from its run folder.
/// </summary>
public static class TrainPix2PixCommand
{
    public const string DefaultOutput = "data/clipart-pix2pix.safetensors";

    public static Command Create()
    {
        var d = new Pix2PixTrainingOptions();
        var steps = new Option<long?>("--steps") { Description = $"Training steps (default {d.Steps}; with --resume: the run's own plan)" };
        var batch = new Option<int>("--batch") { Description = "Pairs per step", DefaultValueFactory = _ => d.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of G and D (upstream 2e-4)", DefaultValueFactory = _ => d.LearningRate };
        var beta1 = new Option<double>("--beta1") { Description = "Adam beta1 (upstream 0.5)", DefaultValueFactory = _ => d.Beta1 };
        var lambda = new Option<double>("--lambda-l1") { Description = "Weight of the L1 term (upstream 100)", DefaultValueFactory = _ => d.LambdaL1 };
        var ganMode = new Option<string>("--gan-mode") { Description = "vanilla (BCE with logits) | lsgan | sigmoid", DefaultValueFactory = _ => d.GanMode.Name() };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, pairs and dropout", DefaultValueFactory = _ => d.Seed };
        var numDowns = new Option<int>("--num-downs") { Description = "U-Net down-samplings (64 px: at most 6)", DefaultValueFactory = _ => d.NumDowns };
        var ngf = new Option<int>("--ngf") { Description = "U-Net filters in the outermost layer", DefaultValueFactory = _ => d.Ngf };
        var ndf = new Option<int>("--ndf") { Description = "PatchGAN filters in the first layer", DefaultValueFactory = _ => d.Ndf };
        var nLayers = new Option<int>("--n-layers-d") { Description = "PatchGAN layers (basic = 3)", DefaultValueFactory = _ => d.NLayersD };
        var noDropout = new Option<bool>("--no-dropout") { Description = "No dropout in the generator (upstream's --no_dropout)" };
        var output = new Option<string>("--out") { Description = "Exported generator (.safetensors)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/ and best/ (default runs/pix2pix-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between held-out evaluations (best/ keeps the lowest L1; 0 = only at the end)", DefaultValueFactory = _ => 0 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 100 };
        var evalScenes = new Option<int>("--eval-scenes") { Description = "Held-out scenes of the periodic evaluations", DefaultValueFactory = _ => 200 };
        var finalScenes = new Option<int>("--final-scenes") { Description = "Held-out scenes of the final evaluation", DefaultValueFactory = _ => 500 };
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("pix2pix", "Train a small pix2pix (U-Net + PatchGAN) to colour clipart outline drawings and export the generator")
        {
            steps, batch, lr, beta1, lambda, ganMode, seed, numDowns, ngf, ndf, nLayers, noDropout,
            output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, finalScenes, printEvery,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            int renderThreads = Math.Max(1, parse.GetValue(threads));
            var judge = ObjectClassifier.FindDefault() is null ? null : new SceneJudge(ObjectClassifier.LoadDefault());
            Pix2PixTrainer trainer;
            string runDirectory;
            if (parse.GetValue(resume) is { } resumePath)
            {
                var (runDir, checkpointDir) = TrainingConsole.ResolveResume(resumePath);
                trainer = Pix2PixTrainer.Resume(checkpointDir, parse.GetValue(steps), renderThreads, judge);
                runDirectory = parse.GetValue(run) ?? runDir;
            }
            else
            {
                var options = d with
                {
                    Steps = parse.GetValue(steps) ?? d.Steps,
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    Beta1 = parse.GetValue(beta1),
                    LambdaL1 = parse.GetValue(lambda),
                    GanMode = GanLoss.Parse(parse.GetValue(ganMode)!),
                    Seed = parse.GetValue(seed),
                    NumDowns = parse.GetValue(numDowns),
                    Ngf = parse.GetValue(ngf),
                    Ndf = parse.GetValue(ndf),
                    NLayersD = parse.GetValue(nLayers),
                    UseDropout = !parse.GetValue(noDropout),
                };
                trainer = new Pix2PixTrainer(options, renderThreads, judge);
                runDirectory = parse.GetValue(run) ?? TrainingConsole.RepoPath(Path.Combine("runs", $"pix2pix-{DateTime.Now:yyyyMMdd-HHmmss}"));
            }
            using (trainer)
            {
                var session = new TrainingSessionOptions(runDirectory, TrainingConsole.RepoPath(parse.GetValue(output)!),
                    parse.GetValue(checkpointEvery), parse.GetValue(evalEvery), parse.GetValue(evalScenes), parse.GetValue(finalScenes));
                return TrainingConsole.Run(trainer, session,
                    ["loss_D", "loss_G_GAN", "L1"],
                    ["l1", "l1_mean_image", "judge_accepts", "kind_accepts", "colour_accepts"], parse.GetValue(printEvery));
            }
        });
        return command;
    }
}
