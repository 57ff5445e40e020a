using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli.Commands;
using VqganClip.Guidance;
using VqganClip.Clipart;
using VqganClip.Clipart.Eval;
using VqganClip.Clipart.Judge;
using VqganClip.Guidance.Running;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Tool.Commands;

/// <summary>
/// <c>vqgan-clip eval</c>: generates a picture for each of the fixed clipart prompts (or a prompt file) with
/// <c>generate</c>'s default settings and grades it with the independent judge (colour masses and centroids plus a
/// separately trained object classifier; it never sees the guiding CLIP). <c>--generator vqgan|pixels|fourier|strokes</c>
/// chooses the "X + CLIP" generator; <c>--generator reference</c> draws each prompt's canonical scene (the judge's ceiling),
/// <c>--generator reconstruction</c> passes that drawing through the VQGAN (the ceiling of any VQGAN-latent picture).
/// Every prompt gets the same seed (<c>--seed</c>), so a report is reproducible.
/// </summary>
public static class EvalCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var generator = new Option<string>("--generator", "-g") { Description = "vqgan | pixels | fourier | strokes (X + CLIP, generate's default settings), reference (draws the prompt's scene: the judge's ceiling) or reconstruction (that drawing through the VQGAN: the VQGAN's ceiling)", DefaultValueFactory = _ => "vqgan" };
        generator.AcceptOnlyFromAmong("vqgan", "pixels", "fourier", "strokes", "reference", "reconstruction");
        var clip = new Option<string?>("--clip") { Description = "CLIP checkpoint that guides (default: the shipped data/clipart-clip.safetensors)" };
        var vqgan = new Option<string?>("--vqgan") { Description = "VQGAN checkpoint (default: the shipped data/clipart-vqgan.safetensors)" };
        var steps = new Option<int?>("--steps") { Description = $"Steps per picture (default: generate's, {new GenerateCommand.GenerateSettings().Steps})" };
        var size = new Option<string?>("--size") { Description = "Picture size WxH or N (default: generate's, the CLIP's input size for small CLIPs; the judge reads every picture at 64x64)" };
        var seed = new Option<long>("--seed") { Description = "Seed of every picture", DefaultValueFactory = _ => 0 };
        var cutMethod = new Option<string?>("--cut-method") { Description = "original | augmented (default: generate's)" };
        var augment = new Option<string?>("--augment") { Description = "Augmentation changes KEY=VALUE,... (see generate --augment)" };
        var cutn = new Option<int?>("--cutn") { Description = "Cutouts per step (default: generate's)" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: generate's)" };
        var cutPow = new Option<double?>("--cut-pow") { Description = "Cutout size power (default: generate's)" };
        var schedule = new Option<string?>("--schedule") { Description = "Learning-rate schedule (default: generate's)" };
        var tv = new Option<double?>("--tv") { Description = "Total-variation weight (default: generate's)" };
        var latentInit = new Option<string?>("--init") { Description = "codes | flat | noise: how the vqgan latent starts (default: generate's)" };
        var starts = new Option<int?>("--starts") { Description = "Starts per picture, the best kept after the trial steps (default: generate's)" };
        var trialSteps = new Option<int?>("--trial-steps") { Description = "Trial steps of each start (default: generate's)" };
        var initImage = new Option<string?>("--init-image") { Description = "Start every picture from this image (vqgan and pixels generators)" };
        var initWeight = new Option<double?>("--init-weight") { Description = "Keep close to the start (default: generate's)" };
        var threads = new Option<int?>("--threads") { Description = "Torch intra-op threads" };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Also save each picture here (NN-prompt.png)" };
        var promptsFile = new Option<FileInfo?>("--prompts") { Description = "Text file with one prompt per line (default: the fixed evaluation prompts)" };
        var limit = new Option<int?>("--limit") { Description = "Only the first N prompts" };
        var classifier = new Option<string?>("--classifier") { Description = $"Judge classifier (default: {ObjectClassifier.DefaultRelativePath} found upward)" };
        var markdown = new Option<FileInfo?>("--report") { Description = "Also write the report as Markdown to this file" };

        console ??= AnsiConsole.Console;
        var command = new Command("eval", "Generate an image per clipart prompt and grade it with the independent judge")
        {
            generator, clip, vqgan, steps, size, seed, cutMethod, augment, cutn, lr, cutPow, schedule, tv, latentInit, starts, trialSteps, initImage, initWeight, threads, images, promptsFile, limit, classifier, markdown,
        };
        command.SetAction(parse =>
        {
            IEnumerable<string> prompts = parse.GetValue(promptsFile) is { } file
                ? File.ReadAllLines(file.FullName).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
                : EvalPrompts.Fixed;
            if (parse.GetValue(limit) is int n) prompts = prompts.Take(n);
            var list = prompts.ToList();
            foreach (var p in list)
                if (!CaptionParser.TryParse(p, out _, out var error))
                {
                    console.MarkupLineInterpolated($"[red]error:[/] {error!.Message}");
                    return 1;
                }

            if (parse.GetValue(threads) is int t) TorchRuntime.SetThreads(t);
            var kind = parse.GetValue(generator)!;
            var defaults = new GenerateCommand.GenerateSettings();
            var settings = defaults with
            {
                Generator = kind,
                Seed = parse.GetValue(seed),
                Steps = parse.GetValue(steps) ?? defaults.Steps,
                Size = parse.GetValue(size) ?? defaults.Size,
                CutMethod = parse.GetValue(cutMethod) ?? defaults.CutMethod,
                Augment = parse.GetValue(augment) ?? defaults.Augment,
                CutCount = parse.GetValue(cutn) ?? defaults.CutCount,
                LearningRate = parse.GetValue(lr) ?? defaults.LearningRate,
                CutPower = parse.GetValue(cutPow) ?? defaults.CutPower,
                Schedule = parse.GetValue(schedule) ?? defaults.Schedule,
                TotalVariation = parse.GetValue(tv) ?? defaults.TotalVariation,
                InitImage = parse.GetValue(initImage) ?? defaults.InitImage,
                InitWeight = parse.GetValue(initWeight) ?? defaults.InitWeight,
                Init = parse.GetValue(latentInit) ?? defaults.Init,
                Starts = parse.GetValue(starts) ?? defaults.Starts,
                TrialSteps = parse.GetValue(trialSteps) ?? defaults.TrialSteps,
            };
            if (settings.Size is { } typedSize) GenerateCommand.ParseSize(typedSize);   // a typo fails before any model loads
            bool guided = kind is not ("reference" or "reconstruction");
            using var engine = guided ? EngineGenerator.Load(settings, parse.GetValue(clip), parse.GetValue(vqgan)) : null;
            using var autoencoder = kind == "reconstruction" ? GenerateCommand.LoadVqgan(settings with { Vqgan = parse.GetValue(vqgan) }).Item1 : null;
            Func<string, Tensor> generate = engine is not null ? engine.Generate
                : autoencoder is not null ? Evaluator.ReconstructReference(autoencoder)
                : Evaluator.RenderReference;
            if (parse.GetValue(images) is { } imageFolder)
                generate = SavingEach(generate, imageFolder.FullName);
            if (engine is not null)
                console.MarkupLineInterpolated($"Generator {kind}: {engine.Describe()}");

            using var kinds = parse.GetValue(classifier) is { } path ? ObjectClassifier.Load(path) : ObjectClassifier.LoadDefault();
            var report = Evaluator.Run(generate, list, new SceneJudge(kinds),
                item =>
                {
                    if (item.Satisfied) console.MarkupLineInterpolated($"[green]ok  [/] {item.Prompt}");
                    else console.MarkupLineInterpolated($"[red]FAIL[/] {item.Prompt}  — {item.Verdict.Summary}");
                });

            console.WriteLine(FormattableString.Invariant($"Satisfied {report.SatisfiedCount}/{report.Count} ({report.SatisfiedFraction:P1}) with the {kind} generator; {report.Items.Average(i => i.GenerateTime.TotalSeconds):F1} s per picture"));
            foreach (var (check, count) in report.FailuresByCheck)
                console.WriteLine($"  {check}: failed {count} time(s)");
            if (parse.GetValue(markdown) is { } md)
            {
                File.WriteAllText(md.FullName, report.ToMarkdown());
                console.WriteLine($"Report written to {md.FullName}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Wraps <paramref name="generate"/> so each picture is also written to <paramref name="folder"/> as NN-prompt.png.</summary>
    private static Func<string, Tensor> SavingEach(Func<string, Tensor> generate, string folder)
    {
        Directory.CreateDirectory(folder);
        int count = 0;
        return prompt =>
        {
            var image = generate(prompt);
            var name = FormattableString.Invariant($"{++count:D2}-{GenerateCommand.PromptSlug(prompt)}.png");
            // A picture with NaN pixels cannot be written; the evaluator records it as this prompt's failure.
            if (image.isfinite().all().item<bool>())
                RenderedImage.FromTensor(image, 0).Save(Path.Combine(folder, name));
            return image;
        };
    }

    /// <summary>
    /// Prompt -> picture with <c>generate</c>'s default settings (<see cref="GenerateCommand.CreateRun"/>) on models
    /// loaded once for all prompts.
    /// </summary>
    private sealed class EngineGenerator : IDisposable
    {
        private readonly GenerateCommand.GenerateSettings _settings;
        private readonly ClipModel _clip;
        private readonly VqganModel? _vqgan;

        private EngineGenerator(GenerateCommand.GenerateSettings settings, ClipModel clip, VqganModel? vqgan) =>
            (_settings, _clip, _vqgan) = (settings, clip, vqgan);

        public static EngineGenerator Load(GenerateCommand.GenerateSettings settings, string? clipPath, string? vqganPath)
        {
            TorchRuntime.EnsureInitialized();
            if (settings.Steps <= 0) throw new ArgumentException($"--steps must be at least 1; got {settings.Steps}.");
            clipPath = GenerateCommand.ClipPath(clipPath);
            var vqgan = settings.Generator == "vqgan" ? GenerateCommand.LoadVqgan(settings with { Vqgan = vqganPath }).Item1 : null;
            var clip = ClipModel.Load(clipPath);
            try
            {
                // every setting checked once, before the first picture
                GenerateCommand.ValidateStarts(settings);
                using var probe = GenerateCommand.CreateRun(settings with { Prompt = "a red circle" }, clip, vqgan);
            }
            catch
            {
                clip.Dispose();
                vqgan?.Dispose();
                throw;
            }
            return new EngineGenerator(settings, clip, vqgan);
        }

        public string Describe()
        {
            var s = _settings;
            var (width, height) = s.Size is null ? GenerateCommand.DefaultSize(_clip) : GenerateCommand.ParseSize(s.Size);
            var size = FormattableString.Invariant($"{width}x{height}");
            return FormattableString.Invariant($"{s.Steps} steps{(s.Generator == "vqgan" ? $", init {s.Init}" : "")}{(s.Starts > 1 ? $" (best of {s.Starts} starts after {s.TrialSteps})" : "")}, {s.CutCount} {s.CutMethod} cutouts{(s.Augment is null ? "" : $" ({s.Augment})")}, {s.Optimizer} lr {s.LearningRate}, seed {s.Seed}, {size}");
        }

        public Tensor Generate(string prompt)
        {
            var settings = _settings with { Prompt = prompt };
            using var run = GenerateCommand.CreateBestRun(settings, _clip, _vqgan);
            run.Step(Math.Max(0, settings.Steps - run.StepCount));
            return run.CurrentImage().ToTensor();
        }

        public void Dispose()
        {
            _clip.Dispose();
            _vqgan?.Dispose();
        }
    }
}
