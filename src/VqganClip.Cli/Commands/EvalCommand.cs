using System.CommandLine;
using Spectre.Console;
using VqganClip.Guidance.ClipartWorld;
using VqganClip.Guidance.ClipartWorld.Eval;
using VqganClip.Guidance.ClipartWorld.Judge;
using static TorchSharp.torch;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip eval</c>: runs a generator over the fixed clipart prompts (or a prompt file) and grades
/// each image with the independent judge. <c>--generator reference</c> draws each prompt's canonical
/// scene (the judge's ceiling); <c>--generator engine</c> is the VQGAN+CLIP engine, to be wired in
/// <see cref="CreateEngineGenerator"/> once it lands.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var generator = new Option<string>("--generator", "-g") { Description = "engine (VQGAN+CLIP) or reference (draws the prompt's scene)", DefaultValueFactory = _ => "engine" };
        generator.AcceptOnlyFromAmong("engine", "reference");
        var promptsFile = new Option<FileInfo?>("--prompts") { Description = "Text file with one prompt per line (default: the fixed evaluation prompts)" };
        var limit = new Option<int?>("--limit") { Description = "Only the first N prompts" };
        var classifier = new Option<string?>("--classifier") { Description = $"Judge classifier (default: {ObjectClassifier.DefaultRelativePath} found upward)" };
        var markdown = new Option<FileInfo?>("--report") { Description = "Also write the report as Markdown to this file" };

        var command = new Command("eval", "Generate an image per clipart prompt and grade it with the independent judge")
        {
            generator, promptsFile, limit, classifier, markdown,
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
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {error!.Message}");
                    return 1;
                }

            Func<string, Tensor>? generate = parse.GetValue(generator) == "reference"
                ? Evaluator.RenderReference
                : CreateEngineGenerator(parse);
            if (generate is null)
            {
                AnsiConsole.MarkupLine("[red]error:[/] the VQGAN+CLIP generator engine is not wired into `eval` yet; use --generator reference to check the judge and prompts.");
                return 2;
            }

            using var kinds = parse.GetValue(classifier) is { } path ? ObjectClassifier.Load(path) : ObjectClassifier.LoadDefault();
            var report = Evaluator.Run(generate, list, new SceneJudge(kinds),
                item =>
                {
                    if (item.Satisfied) AnsiConsole.MarkupLineInterpolated($"[green]ok  [/] {item.Prompt}");
                    else AnsiConsole.MarkupLineInterpolated($"[red]FAIL[/] {item.Prompt}  — {item.Verdict.Summary}");
                });

            AnsiConsole.WriteLine($"Satisfied {report.SatisfiedCount}/{report.Count} ({report.SatisfiedFraction:P1})");
            foreach (var (check, count) in report.FailuresByCheck)
                AnsiConsole.WriteLine($"  {check}: failed {count} time(s)");
            if (parse.GetValue(markdown) is { } md)
            {
                File.WriteAllText(md.FullName, report.ToMarkdown());
                AnsiConsole.WriteLine($"Report written to {md.FullName}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// THE MISSING PIECE: the VQGAN+CLIP generator engine, prompt -> image [3,H,W] in [0,1].
    /// To be wired by the lead once the engine lands (add its options — models, steps, seed — to the
    /// command and build the generator from `parse` here). Null until then.
    /// </summary>
    private static Func<string, Tensor>? CreateEngineGenerator(ParseResult parse)
    {
        _ = parse;
        return null;
    }
}
