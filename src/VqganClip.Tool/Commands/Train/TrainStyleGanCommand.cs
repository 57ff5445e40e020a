using System.CommandLine;
using VqganClip.Clipart.Judge;
using VqganClip.Models.Runtime;
using VqganClip.Training;
using VqganClip.Training.StyleGan2;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train stylegan</c>: trains a small unconditional StyleGAN2 (rosinality's train.py recipe) on freshly
/// rendered clipart scenes and exports g_ema + latent_avg as the safetensors <c>generate --stylegan</c> loads.
/// Resumable from its run folder.
/// </summary>
public static class TrainStyleGanCommand
{
    public const string DefaultOutput = "data/clipart-stylegan.safetensors";

    public static Command Create()
    {
        var d = new StyleGan2TrainingOptions();
        var steps = new Option<long?>("--steps") { Description = $"Training steps (default {d.Steps}; with --resume: the run's own plan)" };
        var batch = new Option<int>("--batch") { Description = "Scenes per step (a multiple of 4: the minibatch-stddev group)", DefaultValueFactory = _ => d.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate (upstream 0.002; D's is scaled by d_reg_every/(d_reg_every+1))", DefaultValueFactory = _ => d.LearningRate };
        var r1 = new Option<double>("--r1") { Description = "R1 weight gamma (upstream 10 at 256+ px; 0.0002*res^2/batch = 0.05 here)", DefaultValueFactory = _ => d.R1Gamma };
        var dRegEvery = new Option<int>("--d-reg-every") { Description = "Steps between lazy R1 steps (upstream 16; 0 = no R1)", DefaultValueFactory = _ => d.DRegEvery };
        var mixing = new Option<double>("--mixing") { Description = "Style-mixing probability (upstream 0.9)", DefaultValueFactory = _ => d.Mixing };
        var emaDecay = new Option<double>("--ema-decay") { Description = "g_ema decay per step (upstream 0.5^(32/10000))", DefaultValueFactory = _ => d.EmaDecay };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, scenes, latents and noise", DefaultValueFactory = _ => d.Seed };
        var styleDim = new Option<int>("--style-dim") { Description = "Length of z and w (upstream 512)", DefaultValueFactory = _ => d.StyleDim };
        var nMlp = new Option<int>("--n-mlp") { Description = "Mapping-network layers (upstream 8)", DefaultValueFactory = _ => d.NMlp };
        var gChannels = new Option<string>("--g-channels") { Description = "Generator channels at 4,8,16,32,64 px", DefaultValueFactory = _ => string.Join(',', d.GChannels) };
        var dChannels = new Option<string>("--d-channels") { Description = "Discriminator channels at 4,8,16,32,64 px (each at least 16)", DefaultValueFactory = _ => string.Join(',', d.DChannels) };
        var output = new Option<string>("--out") { Description = "Exported generator (.safetensors: g_ema + latent_avg)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/ and best/ (default runs/stylegan-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between sample evaluations (best/ keeps the most valid; 0 = only at the end)", DefaultValueFactory = _ => 0 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 100 };
        var evalScenes = new Option<int>("--eval-scenes") { Description = "Samples judged in the periodic evaluations", DefaultValueFactory = _ => 200 };
        var finalScenes = new Option<int>("--final-scenes") { Description = "Samples judged in the final evaluation", DefaultValueFactory = _ => 500 };
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("stylegan", "Train a small StyleGAN2 (rosinality's recipe) on clipart scenes and export g_ema + latent_avg")
        {
            steps, batch, lr, r1, dRegEvery, mixing, emaDecay, seed, styleDim, nMlp, gChannels, dChannels,
            output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, finalScenes, printEvery,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            int renderThreads = Math.Max(1, parse.GetValue(threads));
            var judge = ObjectClassifier.FindDefault() is null ? null : new SceneJudge(ObjectClassifier.LoadDefault());
            StyleGan2Trainer trainer;
            string runDirectory;
            if (parse.GetValue(resume) is { } resumePath)
            {
                var (runDir, checkpointDir) = TrainingConsole.ResolveResume(resumePath);
                trainer = StyleGan2Trainer.Resume(checkpointDir, parse.GetValue(steps), renderThreads, judge);
                runDirectory = parse.GetValue(run) ?? runDir;
            }
            else
            {
                var options = d with
                {
                    Steps = parse.GetValue(steps) ?? d.Steps,
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    R1Gamma = parse.GetValue(r1),
                    DRegEvery = parse.GetValue(dRegEvery),
                    Mixing = parse.GetValue(mixing),
                    EmaDecay = parse.GetValue(emaDecay),
                    Seed = parse.GetValue(seed),
                    StyleDim = parse.GetValue(styleDim),
                    NMlp = parse.GetValue(nMlp),
                    GChannels = StyleGan2TrainingOptions.ParseChannels(parse.GetValue(gChannels)!),
                    DChannels = StyleGan2TrainingOptions.ParseChannels(parse.GetValue(dChannels)!),
                };
                trainer = new StyleGan2Trainer(options, renderThreads, judge);
                runDirectory = parse.GetValue(run) ?? TrainingConsole.RepoPath(Path.Combine("runs", $"stylegan-{DateTime.Now:yyyyMMdd-HHmmss}"));
            }
            using (trainer)
            {
                var session = new TrainingSessionOptions(runDirectory, TrainingConsole.RepoPath(parse.GetValue(output)!),
                    parse.GetValue(checkpointEvery), parse.GetValue(evalEvery), parse.GetValue(evalScenes), parse.GetValue(finalScenes));
                return TrainingConsole.Run(trainer, session, ["d", "g", "r1", "real_score", "fake_score"], ["valid", "objects_mean"], parse.GetValue(printEvery));
            }
        });
        return command;
    }
}
