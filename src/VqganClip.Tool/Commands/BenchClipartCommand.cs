using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Models.Runtime;

namespace VqganClip.Tool.Commands;

/// <summary>
/// <c>vqgan-clip bench clipart</c>: throughput of the clipart world on this machine: sampling and
/// captioning, caption parsing, rendering (one thread, and batched to a tensor on all threads), and
/// the judge (analytic checks, and with the kind classifier when one is found). Prints figures; not a test.
/// </summary>
public static class BenchClipartCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--scenes") { Description = "Scenes per measurement", DefaultValueFactory = _ => 4000 };
        var threads = new Option<int?>("--threads") { Description = "Threads for the batch render and torch (default: all cores / torch's choice)" };
        var command = new Command("clipart", "Benchmark clipart scene sampling, rendering, caption parsing and judging") { count, threads };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(count);
            if (n < 1)
            {
                AnsiConsole.MarkupLine("[red]error:[/] --scenes must be positive");
                return 1;
            }
            Run(n, parse.GetValue(threads));
            return 0;
        });
        return command;
    }

    private static void Run(int n, int? threads)
    {
        TorchRuntime.EnsureInitialized();
        if (threads is int t) TorchRuntime.SetThreads(t);
        AnsiConsole.WriteLine($"{Environment.ProcessorCount} cores, torch threads {TorchRuntime.Threads}");
        var table = new Table().AddColumn("stage").AddColumn(new TableColumn("items").RightAligned())
            .AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("items / s").RightAligned());
        void Row(string stage, int items, TimeSpan t) =>
            table.AddRow(Markup.Escape(stage), items.ToString(), $"{t.TotalSeconds:0.000}", $"{items / t.TotalSeconds:0}");

        // Warm up JIT and per-thread canvases.
        var warm = new SceneSampler(0).Sample(64).ToList();
        SceneRenderer.RenderBatch(warm, maxThreads: threads).Dispose();

        var clock = Stopwatch.StartNew();
        var sampler = new SceneSampler(42);
        var captioned = Enumerable.Range(0, n).Select(_ => sampler.NextCaptioned()).ToList();
        Row("sample + caption", n, clock.Elapsed);

        clock.Restart();
        var parsed = captioned.Select(c => CaptionParser.Parse(c.Caption)).ToList();
        Row("parse caption", n, clock.Elapsed);

        var specs = captioned.Select(c => c.Spec).ToList();
        clock.Restart();
        foreach (var s in specs) SceneRenderer.RenderRgb(s);
        Row("render 64x64 RGB bytes (1 thread)", n, clock.Elapsed);

        clock.Restart();
        using (var batch = SceneRenderer.RenderBatch(specs, maxThreads: threads))
            Row($"render batch -> tensor [{string.Join(",", batch.shape)}] ({threads ?? Environment.ProcessorCount} threads)", n, clock.Elapsed);

        int judged = Math.Min(n, 1000);
        var planar = specs.Take(judged).Select(s => SceneRenderer.RenderPlanar(s)).ToList();
        var analytic = new SceneJudge();
        analytic.Judge(planar[0], parsed[0]); // calibrates the size check once
        clock.Restart();
        for (int i = 0; i < judged; i++) analytic.Judge(planar[i], parsed[i]);
        Row("judge, analytic checks only (1 thread)", judged, clock.Elapsed);

        if (ObjectClassifier.FindDefault() is { } path)
        {
            using var classifier = ObjectClassifier.Load(path);
            var full = new SceneJudge(classifier);
            clock.Restart();
            for (int i = 0; i < judged; i++) full.Judge(planar[i], parsed[i]);
            Row("judge with kind classifier", judged, clock.Elapsed);
        }
        else
        {
            AnsiConsole.WriteLine($"(no {ObjectClassifier.DefaultRelativePath} found: judge with classifier not measured)");
        }
        AnsiConsole.Write(table);
    }
}
