using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Training;
using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Models.BigGan;
using VqganClip.Models.Clip;
using VqganClip.Training.BigGan;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;
using VqganClip.Models.Pix2Pix;
using VqganClip.Training.Pix2Pix;
using VqganClip.Training.AudioClip;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip eval-models</c>: the figures of the shipped clipart models on held-out scenes (seeded, never
/// trained on): VQGAN reconstruction PSNR and codebook usage, CLIP caption-retrieval top-1 among 100 captions, and
/// for the audio head (<c>--audioclip</c>) the top-1 of held-out captions spoken by the held-out voice among 100, and
/// eval prompts guided spoken against typed, judged (<see cref="SpokenPromptEval"/>).
/// Loads the files exactly as users do (<see cref="VqganModel.Load"/>, <see cref="ClipModel.Load"/>).
/// </summary>
public static class EvalModelsCommand
{
    public static Command Create()
    {
        var vqgan = new Option<string?>("--vqgan") { Description = $"VQGAN to evaluate (default {TrainVqganCommand.DefaultOutput}; 'none' to skip)" };
        var clip = new Option<string?>("--clip") { Description = $"CLIP to evaluate (default {TrainClipCommand.DefaultOutput}; 'none' to skip)" };
        var scenes = new Option<int>("--scenes") { Description = "Held-out scenes (CLIP: groups of 100)", DefaultValueFactory = _ => 1000 };
        var biggan = new Option<string?>("--biggan") { Description = $"Clipart BigGAN to evaluate (default {TrainBigGanCommand.DefaultOutput}, skipped when absent; 'none' to skip)" };
        var truncation = new Option<double>("--truncation") { Description = "BigGAN: truncation of the samples", DefaultValueFactory = _ => new BigGanTrainingOptions().EvalTruncation };
        var grid = new Option<string?>("--biggan-grid") { Description = "BigGAN: also write one sample per class (class id order, 10 colours a row) to this image file" };
        var pix2pix = new Option<string?>("--pix2pix") { Description = $"Clipart pix2pix generator to evaluate (default {TrainPix2PixCommand.DefaultOutput}, skipped when absent; 'none' to skip)" };
        var pix2pixTrain = new Option<bool>("--pix2pix-train-mode") { Description = "pix2pix: colour in training mode (batch statistics, dropout: upstream's test time without --eval) instead of evaluation mode" };
        var pix2pixGrid = new Option<string?>("--pix2pix-grid") { Description = "pix2pix: also write 8 held-out outlines, the colouring in evaluation and in training mode, and the coloured scene (one scene a row) to this image file" };
        var stylegan = new Option<string?>("--stylegan") { Description = $"Clipart StyleGAN2 to evaluate (default {TrainStyleGanCommand.DefaultOutput}, skipped when absent; 'none' to skip)" };
        var styleganTruncation = new Option<double>("--stylegan-truncation") { Description = "StyleGAN2: truncation psi of the judged samples (1 = none)", DefaultValueFactory = _ => 1.0 };
        var styleganGrid = new Option<string?>("--stylegan-grid") { Description = "StyleGAN2: also write the first 32 judged samples (8 a row) to this image file" };
        var styleganEdits = new Option<int>("--stylegan-edits") { Description = "StyleGAN2: StyleCLIP edits per edit prompt, from samples that show its object (0 = none)", DefaultValueFactory = _ => 10 };
        var styleganEditSteps = new Option<int>("--stylegan-edit-steps") { Description = "StyleGAN2: StyleCLIP steps per edit (upstream 300)", DefaultValueFactory = _ => 100 };
        var styleganL2 = new Option<double>("--stylegan-l2") { Description = "StyleGAN2: StyleCLIP's L2 weight of the edits (upstream 0.008)", DefaultValueFactory = _ => 0.008 };
        var styleganEditTruncation = new Option<double>("--stylegan-edit-truncation") { Description = "StyleGAN2: truncation of the edits' starting samples (generate's 0.7)", DefaultValueFactory = _ => 0.7 };
        var audioclip = new Option<string?>("--audioclip") { Description = $"Clipart audio head to evaluate (default {TrainAudioClipCommand.DefaultOutput}, skipped when absent; 'none' to skip): audio-to-caption top-1 among 100 held-out captions in the held-out voice, and eval prompts guided typed vs spoken" };
        var audioEvery = new Option<int>("--audio-every") { Description = "audioclip: guide every Nth fixed eval prompt, typed and spoken (0 = retrieval only)", DefaultValueFactory = _ => 6 };
        var audioSteps = new Option<int>("--audio-steps") { Description = "audioclip: steps of each guided picture (vqgan, generate's other defaults, seed 0)", DefaultValueFactory = _ => 100 };
        var audioCache = new Option<string>("--audio-cache") { Description = "audioclip: folder for the spoken held-out captions and prompts (espeak-ng)", DefaultValueFactory = _ => "runs/audioclip-eval" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 1 };
        var command = new Command("eval-models", "Print the shipped clipart models' held-out figures: VQGAN PSNR, CLIP top-1 caption retrieval, BigGAN class accuracy, pix2pix held-out L1 and judge acceptance, StyleGAN2 valid-scene rate and StyleCLIP edit acceptance, audio head caption retrieval and spoken-prompt acceptance")
        {
            vqgan, clip, biggan, truncation, grid, pix2pix, pix2pixTrain, pix2pixGrid,
            stylegan, styleganTruncation, styleganGrid, styleganEdits, styleganEditSteps, styleganL2, styleganEditTruncation,
            audioclip, audioEvery, audioSteps, audioCache, scenes, threads,
        };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(scenes);
            if (count < 100) throw new ArgumentException($"--scenes must be at least 100 (got {count}).");
            TorchRuntime.SetThreads(parse.GetValue(threads));
            int renderThreads = Math.Max(1, parse.GetValue(threads));
            var vqganPath = parse.GetValue(vqgan) ?? TrainingConsole.RepoPath(TrainVqganCommand.DefaultOutput);
            var clipPath = parse.GetValue(clip) ?? TrainingConsole.RepoPath(TrainClipCommand.DefaultOutput);

            if (vqganPath != "none")
            {
                using var model = VqganModel.Load(vqganPath);
                var r = ReconstructionEval.Run(model, count, threads: renderThreads);
                AnsiConsole.WriteLine($"VQGAN {vqganPath}: PSNR {r.MeanPsnr:0.00} dB (mean over {r.Images} held-out scenes; pooled {r.PooledPsnr:0.00} dB), " +
                                      $"codebook usage {r.CodesUsed}/{r.CodebookSize} ({(double)r.CodesUsed / r.CodebookSize:P0}), perplexity {r.Perplexity:0.0}");
            }
            if (clipPath != "none")
            {
                using var model = ClipModel.Load(clipPath);
                var r = RetrievalEval.Run(model, count, 100, renderThreads);
                AnsiConsole.WriteLine($"CLIP {clipPath}: top-1 {r.ImageToTextTop1:P1} (image picks its caption among {r.GroupSize}, {r.Scenes} held-out scenes); " +
                                      $"text->image top-1 {r.TextToImageTop1:P1}; top-5 {r.ImageToTextTop5:P1}");
                double kind = RetrievalEval.KindTop1(model, Math.Min(count, 300), renderThreads);
                AnsiConsole.WriteLine($"CLIP {clipPath}: kind top-1 {kind:P1} (image picks its caption among its 12 object-kind variants, {Math.Min(count, 300)} held-out scenes; chance 8.3%)");
            }
            var bigganGiven = parse.GetValue(biggan);
            var bigganPath = bigganGiven ?? TrainingConsole.RepoPath(TrainBigGanCommand.DefaultOutput);
            if (bigganPath != "none" && (bigganGiven is not null || File.Exists(bigganPath)))
            {
                using var model = BigGanModel.Load(bigganPath);
                var judge = new SceneJudge(ObjectClassifier.LoadDefault());
                int samples = (count + ClipartClasses.Count - 1) / ClipartClasses.Count * ClipartClasses.Count;
                if (parse.GetValue(grid) is { } gridPath)
                {
                    using var pictures = BigGanClassAccuracy.OnePerClass(model, parse.GetValue(truncation));
                    using var sheet = VqganClip.Models.Images.ImageGrid.Make(pictures.unbind(0), columns: 10);
                    VqganClip.Models.Images.ImageIO.Save(sheet, gridPath);
                }
                var r = BigGanClassAccuracy.Run(model, samples, parse.GetValue(truncation), judge);
                AnsiConsole.WriteLine($"BigGAN {bigganPath}: class accuracy {r.Accuracy:P1} (the judge accepts \"a <colour> <kind>\" for {r.Samples} samples, " +
                                      $"every class {r.Samples / ClipartClasses.Count} times, truncation {r.Truncation}); colour and presence alone {r.ColourAccuracy:P1}; valid scenes whatever the class {r.ValidRate:P1}");
                AnsiConsole.WriteLine($"  where it draws: {r.Coverage.Describe()} ({r.Coverage.BackgroundsAbove()} of {Vocabulary.Backgrounds.Length} backgrounds on 5% of the samples or more)");
            }
            var pix2pixGiven = parse.GetValue(pix2pix);
            var pix2pixPath = pix2pixGiven ?? TrainingConsole.RepoPath(TrainPix2PixCommand.DefaultOutput);
            if (pix2pixPath != "none" && (pix2pixGiven is not null || File.Exists(pix2pixPath)))
            {
                using var model = UnetGenerator.Load(pix2pixPath);
                var judge = new SceneJudge(ObjectClassifier.LoadDefault());
                bool trainMode = parse.GetValue(pix2pixTrain);
                if (parse.GetValue(pix2pixGrid) is { } gridPath)
                {
                    using var rows = Pix2PixHeldOutEval.Rows(model, 8, renderThreads);
                    using var sheet = VqganClip.Models.Images.ImageGrid.Make(rows.unbind(0), columns: 4);
                    VqganClip.Models.Images.ImageIO.Save(sheet, gridPath);
                }
                var r = Pix2PixHeldOutEval.Run(model, count, judge, trainMode, renderThreads);
                AnsiConsole.WriteLine($"pix2pix {pix2pixPath}: held-out L1 {r.L1:0.0000} ([-1, 1] scale, {r.Scenes} held-out outlines, {(trainMode ? "training" : "evaluation")} mode; baselines: the held-out mean picture {r.L1MeanImage:0.0000}, the outline itself {r.L1Outline:0.0000}); " +
                                      $"the judge accepts {r.JudgeAccepts:P1} of the colourings for their captions (kinds alone {r.KindAccepts:P1}, colours alone {r.ColourAccepts:P1}); " +
                                      $"colour-blind, every object's kind recognised at its place in {r.KindsAtPlaces:P1} of the colourings (the coloured scenes themselves {r.KindsAtPlacesTargets:P1}, the outlines {r.KindsAtPlacesOutlines:P1})");
            }
            var styleganGiven = parse.GetValue(stylegan);
            var styleganPath = styleganGiven ?? TrainingConsole.RepoPath(TrainStyleGanCommand.DefaultOutput);
            if (styleganPath != "none" && (styleganGiven is not null || File.Exists(styleganPath)))
                EvaluateStyleGan(styleganPath, clipPath != "none" ? clipPath : TrainingConsole.RepoPath(TrainClipCommand.DefaultOutput), count,
                    parse.GetValue(styleganTruncation), parse.GetValue(styleganGrid), parse.GetValue(styleganEdits), parse.GetValue(styleganEditSteps), parse.GetValue(styleganL2), parse.GetValue(styleganEditTruncation), renderThreads);
            var audioGiven = parse.GetValue(audioclip);
            var audioPath = audioGiven ?? TrainingConsole.RepoPath(TrainAudioClipCommand.DefaultOutput);
            if (audioPath != "none" && (audioGiven is not null || File.Exists(audioPath)))
                AudioClipFigures(audioPath, TrainingConsole.RepoPath(parse.GetValue(audioCache)!), parse.GetValue(audioEvery), parse.GetValue(audioSteps));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The StyleGAN2's figures: the share of <paramref name="count"/> samples the judge reads as valid scenes
    /// (<see cref="SceneReader.IsValidScene"/>) against the same measure on as many held-out rendered scenes; then
    /// StyleCLIP edits ("a red circle" from samples that show a circle, "a star on the left" from samples with a star)
    /// with the judge's acceptance of the edited and of the unedited pictures.
    /// </summary>
    private static void EvaluateStyleGan(string path, string clipPath, int count, double truncation, string? gridPath, int edits, int editSteps, double l2, double editTruncation, int renderThreads)
    {
        using var model = VqganClip.Models.StyleGan2.StyleGan2Model.Load(path);
        var judge = new SceneJudge(ObjectClassifier.LoadDefault());
        var r = VqganClip.Training.StyleGan2.StyleGan2SampleEval.Run(model, count, judge, seed: 0, truncation: truncation);
        var real = VqganClip.Training.StyleGan2.StyleGan2SampleEval.RealScenes(count, judge, renderThreads);
        AnsiConsole.WriteLine($"StyleGAN2 {path}: valid scenes {r.ValidRate:P1} of {r.Samples} samples (z seed 0, truncation {truncation}, fixed noise; valid = 1 or 2 objects read " +
                              $"and the judge accepts the reading's caption); 1 object read {r.OneObject:P1}, 2 objects {r.TwoObjects:P1}, mean {r.MeanObjects:0.00}; " +
                              $"baseline: {real.ValidRate:P1} of {real.Samples} held-out rendered scenes (1 object {real.OneObject:P1}, 2 objects {real.TwoObjects:P1})");
        var kinds = r.Readings.Where((_, i) => r.Valid[i]).SelectMany(x => x.Objects).GroupBy(o => o.Kind.ToString().ToLowerInvariant()).OrderByDescending(g => g.Count());
        var backgrounds = r.Readings.Where((_, i) => r.Valid[i]).GroupBy(x => x.Background.ToString().ToLowerInvariant()).OrderByDescending(g => g.Count());
        AnsiConsole.WriteLine($"StyleGAN2 valid samples: objects read as {string.Join(", ", kinds.Select(g => $"{g.Key} {g.Count()}"))}; backgrounds {string.Join(", ", backgrounds.Select(g => $"{g.Key} {g.Count()}"))}");
        if (gridPath is not null)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var noGrad = TorchSharp.torch.no_grad();
            using var rng = new TorchSharp.torch.Generator(0);
            var z = TorchSharp.torch.randn(new long[] { Math.Min(32, count), model.StyleDim }, generator: rng);
            var mean = truncation < 1 ? model.LatentAvg?.unsqueeze(0) : null;
            var (images, _) = model.Forward([z], VqganClip.Models.StyleGan2.StyleGan2Noise.Fixed, truncation: truncation, truncationLatent: mean);
            using var sheet = VqganClip.Models.Images.ImageGrid.Make(((images.clamp(-1, 1) + 1) / 2).unbind(0), columns: 8);
            VqganClip.Models.Images.ImageIO.Save(sheet, gridPath);
        }
        if (edits <= 0) return;
        using var clip = ClipModel.Load(clipPath);
        foreach (var (prompt, kind) in new[] { ("a red circle", VqganClip.Clipart.ObjectKind.Circle), ("a star on the left", VqganClip.Clipart.ObjectKind.Star) })
        {
            var e = StyleClipEditEval.Run(model, clip, judge, prompt, kind, edits, editSteps, l2, editTruncation);
            AnsiConsole.WriteLine($"StyleCLIP edit \"{prompt}\" on {Path.GetFileName(path)} with {Path.GetFileName(clipPath)}: the judge accepts {e.EditedAccepts:P0} of {e.Edits} edited samples " +
                                  $"(unedited: {e.StartAccepts:P0}); starts = the first {e.Edits} of seeds 0..{e.SeedsScanned - 1} whose sample shows a {kind.ToString().ToLowerInvariant()}, " +
                                  $"truncation {e.Truncation}; {e.Steps} StyleCLIP steps, L2 weight {e.L2Lambda}");
        }
    }

    /// <summary>
    /// The clipart audio head's figures: the file loaded as <c>generate --audioclip</c> loads it (with the CLIP it
    /// pairs with), retrieval among 100 held-out captions spoken by the held-out voice, then every
    /// <paramref name="every"/>-th eval prompt guided typed and spoken and judged.
    /// </summary>
    private static void AudioClipFigures(string path, string cache, int every, int steps)
    {
        using var model = Models.AudioClip.AudioClipLoader.Load(path);
        var clipPath = model.PairedClipPath ?? VqganClip.Guidance.ShippedModels.RequireClip();
        using var clip = model.TakeClip() ?? ClipModel.Load(clipPath);
        var voice = SpeechVoices.HeldOutStyle;
        var clips = SpokenCaptions.HeldOut(100, voice);
        var wavs = SpokenCaptions.Synthesize(clips, Path.Combine(cache, "held-out"));
        var r = SpokenCaptionRetrieval.Run(model, clip, clips, wavs);
        AnsiConsole.WriteLine($"AudioCLIP {path}: audio-to-caption top-1 {r.Top1:P1} (a held-out caption spoken by the held-out voice {voice} picks its written caption among {r.Clips}; chance {r.Chance:P1}); top-5 {r.Top5:P1}; mean cosine to its own caption {r.MeanOwnCosine:0.000}");
        if (every <= 0) return;
        var (vqganModel, _) = VqganClip.Cli.Commands.GenerateCommand.LoadVqgan(new VqganClip.Cli.Commands.GenerateCommand.GenerateSettings());
        using (vqganModel)
        {
            var prompts = SpokenPromptEval.Subset(every);
            var f = SpokenPromptEval.Run(clip, vqganModel, model, prompts, steps, Path.Combine(cache, "prompts"),
                progress: (p, spoken, item) => AnsiConsole.WriteLine($"  {(spoken ? "spoken" : "typed ")} {(item.Satisfied ? "ok  " : "FAIL")} {p}{(item.Satisfied ? "" : $"  - {item.Verdict.Summary}")}"));
            AnsiConsole.WriteLine($"AudioCLIP {path}: eval prompts satisfied spoken {f.Spoken.SatisfiedCount}/{f.Spoken.Count} vs typed {f.Typed.SatisfiedCount}/{f.Typed.Count} " +
                                  $"(every {every}th of the {VqganClip.Clipart.Eval.EvalPrompts.Fixed.Count} fixed prompts, vqgan {steps} steps, seed 0, voice {voice}); " +
                                  $"all checks but the object kind: spoken {SpokenPromptFigures.AllButKind(f.Spoken)}/{f.Spoken.Count} vs typed {SpokenPromptFigures.AllButKind(f.Typed)}/{f.Typed.Count}");
        }
    }
}
