using System.CommandLine;
using Spectre.Console;
using VqganClip.Guidance;
using VqganClip.Guidance.ClipartWorld;
using VqganClip.Guidance.ClipartWorld.Eval;
using VqganClip.Guidance.ClipartWorld.Judge;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip eval</c>: generates a picture for each of the fixed clipart prompts (or a prompt file) with
/// <c>generate</c>'s default settings and grades it with the independent judge (colour masses and centroids plus a
/// separately trained object classifier; it never sees the guiding CLIP). <c>--generator vqgan|pixels|fourier|strokes</c>
/// chooses the "X + CLIP" generator; <c>--generator reference</c> draws each prompt's canonical scene (the judge's ceiling).
/// Every prompt gets the same seed (<c>--seed</c>), so a report is reproducible.
/// </summary>
public static class EvalCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var generator = new Option<string>("--generator", "-g") { Description = "vqgan | pixels | fourier | strokes (X + CLIP, generate's default settings), or reference (draws the prompt's scene: the judge's ceiling)", DefaultValueFactory = _ => "vqgan" };
        generator.AcceptOnlyFromAmong("vqgan", "pixels", "fourier", "strokes", "reference");
        var clip = new Option<string?>("--clip") { Description = "CLIP checkpoint that guides (default: the shipped data/clipart-clip.safetensors)" };
        var vqgan = new Option<string?>("--vqgan") { Description = "VQGAN checkpoint (default: the shipped data/clipart-vqgan.safetensors)" };
        var steps = new Option<int?>("--steps") { Description = $"Steps per picture (default: generate's, {new GenerateCommand.GenerateSettings().Steps})" };
        var seed = new Option<long>("--seed") { Description = "Seed of every picture", DefaultValueFactory = _ => 0 };
        var threads = new Option<int?>("--threads") { Description = "Torch intra-op threads" };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Also save each picture here (NN-prompt.png)" };
        var promptsFile = new Option<FileInfo?>("--prompts") { Description = "Text file with one prompt per line (default: the fixed evaluation prompts)" };
        var limit = new Option<int?>("--limit") { Description = "Only the first N prompts" };
        var classifier = new Option<string?>("--classifier") { Description = $"Judge classifier (default: {ObjectClassifier.DefaultRelativePath} found upward)" };
        var markdown = new Option<FileInfo?>("--report") { Description = "Also write the report as Markdown to this file" };

        console ??= AnsiConsole.Console;
        var command = new Command("eval", "Generate an image per clipart prompt and grade it with the independent judge")
        {
            generator, clip, vqgan, steps, seed, threads, images, promptsFile, limit, classifier, markdown,
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
            using var engine = kind == "reference" ? null : EngineGenerator.Load(kind, parse.GetValue(clip), parse.GetValue(vqgan),
                parse.GetValue(steps), parse.GetValue(seed), parse.GetValue(images)?.FullName);
            Func<string, Tensor> generate = engine is null ? Evaluator.RenderReference : engine.Generate;
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

    /// <summary>
    /// Prompt -> picture with <c>generate</c>'s default settings (<see cref="GenerateCommand.CreateRun"/>) on models
    /// loaded once for all prompts.
    /// </summary>
    private sealed class EngineGenerator : IDisposable
    {
        private readonly string _kind;
        private readonly ClipModel _clip;
        private readonly VqganModel? _vqgan;
        private readonly int? _steps;
        private readonly long _seed;
        private readonly string? _imageFolder;
        private int _count;

        private EngineGenerator(string kind, ClipModel clip, VqganModel? vqgan, int? steps, long seed, string? imageFolder)
        {
            (_kind, _clip, _vqgan, _steps, _seed, _imageFolder) = (kind, clip, vqgan, steps, seed, imageFolder);
            if (imageFolder is not null) Directory.CreateDirectory(imageFolder);
        }

        public static EngineGenerator Load(string kind, string? clipPath, string? vqganPath, int? steps, long seed, string? imageFolder)
        {
            TorchRuntime.EnsureInitialized();
            if (steps is <= 0) throw new ArgumentException($"--steps must be at least 1; got {steps}.");
            clipPath ??= ShippedModels.RequireClip();
            if (!File.Exists(clipPath)) throw new FileNotFoundException($"CLIP checkpoint '{clipPath}' does not exist.", clipPath);
            VqganModel? vqgan = null;
            if (kind == "vqgan")
            {
                var (ckpt, yaml) = vqganPath is null ? ShippedModels.RequireVqgan() : (vqganPath, null);
                if (!File.Exists(ckpt)) throw new FileNotFoundException($"VQGAN checkpoint '{ckpt}' does not exist.", ckpt);
                vqgan = VqganModel.Load(ckpt, yaml);
            }
            return new EngineGenerator(kind, ClipModel.Load(clipPath), vqgan, steps, seed, imageFolder);
        }

        private GenerateCommand.GenerateSettings Settings(string prompt)
        {
            var defaults = new GenerateCommand.GenerateSettings();
            return defaults with { Prompt = prompt, Generator = _kind, Seed = _seed, Steps = _steps ?? defaults.Steps };
        }

        public string Describe()
        {
            var s = Settings("");
            return FormattableString.Invariant($"{s.Steps} steps, {s.CutCount} cutouts, {s.Optimizer} lr {s.LearningRate}, seed {_seed}, size {s.Size ?? "default"}");
        }

        public Tensor Generate(string prompt)
        {
            var settings = Settings(prompt);
            using var run = GenerateCommand.CreateRun(settings, _clip, _vqgan);
            run.Step(settings.Steps);
            var image = run.CurrentImage();
            if (_imageFolder is not null)
            {
                var name = string.Concat(prompt.Select(c => char.IsLetterOrDigit(c) ? c : '-'));
                image.Save(Path.Combine(_imageFolder, FormattableString.Invariant($"{++_count:D2}-{name}.png")));
            }
            return image.ToTensor();
        }

        public void Dispose()
        {
            _clip.Dispose();
            _vqgan?.Dispose();
        }
    }
}
