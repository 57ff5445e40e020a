using System.CommandLine;
using VqganClip.Clipart.Judge;
using VqganClip.Models.Runtime;
using VqganClip.Training;
using VqganClip.Training.BigGan;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train biggan</c>: trains a small class-conditional BigGAN-deep (the toolkit's generator, a small
/// config; BigGAN-deep's projection discriminator) on one-object clipart scenes, one class per (kind, colour), and
/// exports G_ema with standing statistics as safetensors + .config.json + .classes.txt. Resumable from its run folder.
/// </summary>
public static class TrainBigGanCommand
{
    public const string DefaultOutput = "data/clipart-biggan.safetensors";

    public static Command Create()
    {
        var d = new BigGanTrainingOptions();
        var steps = new Option<long?>("--steps") { Description = $"Training steps (G steps; default {d.Steps}; with --resume: the run's own plan)" };
        var batch = new Option<int>("--batch") { Description = "Images per step (real and fake each)", DefaultValueFactory = _ => d.BatchSize };
        var gLr = new Option<double>("--g-lr") { Description = "G's Adam learning rate", DefaultValueFactory = _ => d.GLearningRate };
        var dLr = new Option<double>("--d-lr") { Description = "D's Adam learning rate", DefaultValueFactory = _ => d.DLearningRate };
        var dSteps = new Option<int>("--d-steps") { Description = "D steps per G step", DefaultValueFactory = _ => d.DSteps };
        var emaDecay = new Option<double>("--ema-decay") { Description = "Decay of G_ema (the exported generator)", DefaultValueFactory = _ => d.EmaDecay };
        var emaStart = new Option<long>("--ema-start") { Description = "Step from which G_ema averages (before: a copy of G)", DefaultValueFactory = _ => d.EmaStart };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, scenes and noise", DefaultValueFactory = _ => d.Seed };
        var gCh = new Option<int>("--g-channels") { Description = "G's channel_width", DefaultValueFactory = _ => d.GChannels };
        var zDim = new Option<int>("--z-dim") { Description = "z_dim (= class_embed_dim)", DefaultValueFactory = _ => d.ZDim };
        var resolution = new Option<int>("--resolution") { Description = "Side of G's pictures and D's input: 64, or 32 (the world's scenes area-averaged; the judge reads the samples upsampled)", DefaultValueFactory = _ => d.Resolution };
        resolution.AcceptOnlyFromAmong("32", "64");
        var gDepth = new Option<int>("--g-depth") { Description = "GenBlocks per resolution (BigGAN-deep: 2)", DefaultValueFactory = _ => d.GDepth };
        var dCh = new Option<int>("--d-channels") { Description = "D's ch", DefaultValueFactory = _ => d.DChannels };
        var dDepth = new Option<int>("--d-depth") { Description = "DBlocks per resolution (BigGAN-deep: 2)", DefaultValueFactory = _ => d.DDepth };
        var discriminator = new Option<string>("--discriminator") { Description = "D: biggan (BigGAN-deep's spectral-norm projection D) or stylegan2 (rosinality's D with a projection head; widths 4·ch..ch)", DefaultValueFactory = _ => d.Discriminator };
        discriminator.AcceptOnlyFromAmong([.. BigGanDiscriminatorKind.All]);
        var loss = new Option<string>("--loss") { Description = "GAN loss: hinge (BigGAN) or logistic (StyleGAN2's non-saturating)", DefaultValueFactory = _ => d.Loss };
        loss.AcceptOnlyFromAmong([.. BigGanLoss.All]);
        var r1 = new Option<double>("--r1") { Description = "R1 penalty γ on real images (0 = none), applied lazily every --d-reg-every steps", DefaultValueFactory = _ => d.R1Gamma };
        var dRegEvery = new Option<int>("--d-reg-every") { Description = "Steps between lazy R1 steps", DefaultValueFactory = _ => d.DRegEvery };
        var factorised = new Option<bool>("--factorised-classes") { Description = "Tie the class embeddings of G and the stylegan2 D across (kind, colour): each class's embedding is a kind's plus a colour's" };
        var kindClassifier = new Option<double>("--kind-classifier") { Description = "Weight of an AC-GAN kind classifier (0 = none): a small CNN learns the kind of real scenes from the silhouette in the class colour (and G's samples seen through other classes' colours as a 13th class, no object); G is asked to draw samples it classifies as their kind. With --resume: give a run whose classifier has not begun this schedule", DefaultValueFactory = _ => d.KindClassifierWeight };
        var kindStart = new Option<long>("--kind-start") { Description = "Step from which G's loss has the kind term (needs --kind-classifier)", DefaultValueFactory = _ => d.KindStart };
        var kindPretrain = new Option<long>("--kind-pretrain") { Description = "The classifier learns real scenes from --kind-start minus this many steps, alongside the GAN (needs --kind-classifier)", DefaultValueFactory = _ => d.KindPretrainSteps };
        var modeSeeking = new Option<double>("--mode-seeking") { Description = "Weight of MSGAN's mode-seeking term (0 = none): G's batch comes in pairs of one class with different noise, and G is pushed to draw them apart (against a class drawn one way only)", DefaultValueFactory = _ => d.ModeSeekingWeight };
        var sceneTie = new Option<double>("--scene-tie") { Description = "Weight of the scene tie (0 = none): G's sample is pulled (L1) toward the world's picture of the one-object scene its noise names (background, place, size and jitter read from z[0..15]), against a G that draws few backgrounds and places", DefaultValueFactory = _ => d.SceneTieWeight };
        var redrawTie = new Option<double>("--redraw-tie") { Description = "Weight of the redraw tie (0 = none): G's sample is pulled (L1, over the object) toward the world's drawing of the class's kind where the sample's class-colour region is, at that place and size", DefaultValueFactory = _ => d.RedrawTieWeight };
        var redrawTieStart = new Option<long>("--redraw-tie-start") { Description = "Step from which G's loss has the redraw tie", DefaultValueFactory = _ => d.RedrawTieStart };
        var placeTie = new Option<double>("--place-tie") { Description = "Weight of the place tie (0 = none): the soft centroid of the class's colour in G's sample is pulled toward its centroid in the world's drawing of the scene the noise names", DefaultValueFactory = _ => d.PlaceTieWeight };
        var placeTieStart = new Option<long>("--place-tie-start") { Description = "Step from which G's loss has the place tie", DefaultValueFactory = _ => d.PlaceTieStart };
        var clipD = new Option<string?>("--clip-discriminator") { Description = "A CLIP checkpoint whose frozen image tower backs a second discriminator (vision-aided GAN) with a trained head and a (kind, colour) projection term" };
        var clipDWeight = new Option<double>("--clip-discriminator-weight") { Description = "Weight of the CLIP discriminator's term in G's loss", DefaultValueFactory = _ => d.ClipDiscriminatorWeight };
        var clipDStart = new Option<long>("--clip-discriminator-start") { Description = "Step from which the CLIP discriminator's head trains and G has its term", DefaultValueFactory = _ => d.ClipDiscriminatorStart };
        var clipDLr = new Option<double>("--clip-discriminator-lr") { Description = "The CLIP discriminator head's Adam learning rate", DefaultValueFactory = _ => d.ClipDiscriminatorLearningRate };
        var truncation = new Option<double>("--truncation") { Description = "Truncation of the class-accuracy samples", DefaultValueFactory = _ => d.EvalTruncation };
        var output = new Option<string>("--out") { Description = "Exported generator (.safetensors; .config.json and .classes.txt go beside it)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/ and best/ (default runs/biggan-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between class-accuracy evaluations (best/ keeps the best export; 0 = only at the end)", DefaultValueFactory = _ => 0 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 100 };
        var evalScenes = new Option<int>("--eval-samples") { Description = "Samples of the periodic evaluations", DefaultValueFactory = _ => 240 };
        var finalSamples = new Option<int>("--final-samples") { Description = "Samples of the final evaluation", DefaultValueFactory = _ => 1200 };
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("biggan", "Train a small class-conditional BigGAN-deep on one-object clipart scenes ((kind, colour) classes) and export G_ema")
        {
            steps, batch, gLr, dLr, dSteps, emaDecay, emaStart, seed, gCh, zDim, gDepth, resolution, dCh, dDepth, discriminator, loss, r1, dRegEvery, factorised, kindClassifier, kindStart, kindPretrain, modeSeeking, sceneTie, redrawTie, redrawTieStart, placeTie, placeTieStart, clipD, clipDWeight, clipDStart, clipDLr, truncation,
            output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, finalSamples, printEvery,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            int renderThreads = Math.Max(1, parse.GetValue(threads));
            var judge = new SceneJudge(ObjectClassifier.LoadDefault());
            BigGanTrainer trainer;
            string runDirectory;
            if (parse.GetValue(resume) is { } resumePath)
            {
                var (runDir, checkpointDir) = TrainingConsole.ResolveResume(resumePath);
                // --kind-classifier given with --resume adds (or changes) the kind schedule of a run whose classifier has not begun.
                var kind = parse.GetResult(kindClassifier) is { Implicit: false }
                    ? new BigGanTrainer.KindSchedule(parse.GetValue(kindClassifier), parse.GetValue(kindStart), parse.GetValue(kindPretrain))
                    : null;
                trainer = BigGanTrainer.Resume(checkpointDir, parse.GetValue(steps), renderThreads, judge, kind);
                // Settings a resumed run keeps: given again (a recipe repeated) they must agree with the checkpoint's.
                var o = trainer.Options;
                string? Clash<T>(Option<T> option, T planned) =>
                    parse.GetResult(option) is { Implicit: false } && !EqualityComparer<T>.Default.Equals(parse.GetValue(option), planned)
                        ? FormattableString.Invariant($"{option.Name} {parse.GetValue(option)}: the run in {checkpointDir} was planned with {planned}, and a resumed run keeps its settings.")
                        : null;
                var clash = Clash(modeSeeking, o.ModeSeekingWeight) ?? Clash(sceneTie, o.SceneTieWeight)
                    ?? Clash(redrawTie, o.RedrawTieWeight) ?? Clash(redrawTieStart, o.RedrawTieStart)
                    ?? Clash(placeTie, o.PlaceTieWeight) ?? Clash(placeTieStart, o.PlaceTieStart)
                    ?? Clash(clipDWeight, o.ClipDiscriminatorWeight) ?? Clash(clipDStart, o.ClipDiscriminatorStart) ?? Clash(clipDLr, o.ClipDiscriminatorLearningRate);
                if (parse.GetValue(clipD) is { } givenClip && TrainingConsole.RepoPath(givenClip) != o.ClipDiscriminatorPath)
                    clash ??= $"--clip-discriminator {givenClip}: the run in {checkpointDir} was planned with {o.ClipDiscriminatorPath ?? "none"}, and a resumed run keeps its settings.";
                if (clash is not null)
                {
                    trainer.Dispose();
                    throw new ArgumentException(clash);
                }
                runDirectory = parse.GetValue(run) ?? runDir;
            }
            else
            {
                var options = d with
                {
                    Steps = parse.GetValue(steps) ?? d.Steps,
                    BatchSize = parse.GetValue(batch),
                    GLearningRate = parse.GetValue(gLr),
                    DLearningRate = parse.GetValue(dLr),
                    DSteps = parse.GetValue(dSteps),
                    EmaDecay = parse.GetValue(emaDecay),
                    EmaStart = parse.GetValue(emaStart),
                    Seed = parse.GetValue(seed),
                    GChannels = parse.GetValue(gCh),
                    ZDim = parse.GetValue(zDim),
                    GDepth = parse.GetValue(gDepth),
                    Resolution = parse.GetValue(resolution),
                    DChannels = parse.GetValue(dCh),
                    DDepth = parse.GetValue(dDepth),
                    Discriminator = parse.GetValue(discriminator)!,
                    Loss = parse.GetValue(loss)!,
                    R1Gamma = parse.GetValue(r1),
                    DRegEvery = parse.GetValue(dRegEvery),
                    FactorisedClasses = parse.GetValue(factorised),
                    KindClassifierWeight = parse.GetValue(kindClassifier),
                    KindStart = parse.GetValue(kindStart),
                    KindPretrainSteps = parse.GetValue(kindPretrain),
                    ModeSeekingWeight = parse.GetValue(modeSeeking),
                    SceneTieWeight = parse.GetValue(sceneTie),
                    RedrawTieWeight = parse.GetValue(redrawTie),
                    RedrawTieStart = parse.GetValue(redrawTieStart),
                    PlaceTieWeight = parse.GetValue(placeTie),
                    PlaceTieStart = parse.GetValue(placeTieStart),
                    ClipDiscriminatorPath = parse.GetValue(clipD) is { } clipPath ? TrainingConsole.RepoPath(clipPath) : null,
                    ClipDiscriminatorWeight = parse.GetValue(clipDWeight),
                    ClipDiscriminatorStart = parse.GetValue(clipDStart),
                    ClipDiscriminatorLearningRate = parse.GetValue(clipDLr),
                    EvalTruncation = parse.GetValue(truncation),
                };
                trainer = new BigGanTrainer(options, renderThreads, judge);
                runDirectory = parse.GetValue(run) ?? TrainingConsole.RepoPath(Path.Combine("runs", $"biggan-{DateTime.Now:yyyyMMdd-HHmmss}"));
            }
            using (trainer)
            {
                var session = new TrainingSessionOptions(runDirectory, TrainingConsole.RepoPath(parse.GetValue(output)!),
                    parse.GetValue(checkpointEvery), parse.GetValue(evalEvery), parse.GetValue(evalScenes), parse.GetValue(finalSamples));
                var columns = new List<string> { "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake", "r1" };
                if (trainer.Options.KindClassifierWeight > 0) columns.AddRange(["d_kind", "d_kind_accuracy", "g_kind"]);
                if (trainer.Options.ModeSeekingWeight > 0) columns.Add("g_mode_seeking");
                if (trainer.Options.SceneTieWeight > 0) columns.Add("g_scene_tie");
                if (trainer.Options.RedrawTieWeight > 0) columns.Add("g_redraw_tie");
                if (trainer.Options.PlaceTieWeight > 0) columns.Add("g_place_tie");
                if (trainer.Options.ClipDiscriminatorPath is not null) columns.AddRange(["clip_d_real", "clip_d_fake", "g_clip_d"]);
                return TrainingConsole.Run(trainer, session, columns.ToArray(),
                    ["class_accuracy", "colour_accuracy", "valid", "backgrounds", "left", "right", "top", "bottom"], parse.GetValue(printEvery));
            }
        });
        return command;
    }
}
