using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip bench clip</c>: CLIP image-encoder throughput and peak memory on this machine, with random
/// weights (no download): forward under no_grad, and forward + backward to the input pixels (what CLIP
/// guidance does every step). A benchmark that prints figures, not a test.
/// </summary>
public static class BenchClipCommand
{
    public static Command Create()
    {
        var modelOption = new Option<string>("--model")
        {
            Description = "Architecture: " + string.Join(", ", ClipConfig.Published.Keys),
            DefaultValueFactory = _ => "ViT-B/32",
        };
        var batchOption = new Option<int>("--batch") { Description = "Images per batch", DefaultValueFactory = _ => 32 };
        var warmupOption = new Option<int>("--warmup") { Description = "Untimed iterations first", DefaultValueFactory = _ => 1 };
        var iterationsOption = new Option<int>("--iterations") { Description = "Timed iterations", DefaultValueFactory = _ => 3 };
        var threadsOption = ThreadsOption.Create();

        var command = new Command("clip", "Benchmark CLIP encode_image (forward, and forward+backward to the input) with random weights")
        {
            modelOption, batchOption, warmupOption, iterationsOption, threadsOption,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(modelOption)!;
            if (!ClipConfig.Published.TryGetValue(name, out var config))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] unknown model '{name}'; choose one of {string.Join(", ", ClipConfig.Published.Keys)}");
                return 1;
            }
            int batch = parse.GetValue(batchOption), warmup = parse.GetValue(warmupOption), iterations = parse.GetValue(iterationsOption);
            if (batch <= 0 || warmup < 0 || iterations <= 0)
            {
                AnsiConsole.MarkupLine("[red]error:[/] --batch and --iterations must be positive, --warmup not negative");
                return 1;
            }
            Run(name, config, batch, warmup, iterations, parse.GetValue(threadsOption));
            return 0;
        });
        return command;
    }

    private static void Run(string name, ClipConfig config, int batch, int warmup, int iterations, int? threads)
    {
        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(threads);
        TorchRuntime.Seed(0);

        ResetPeakRss();
        long rssBefore = ReadStatusKb("VmRSS:");
        using var model = new ClipModel(config);
        long rssModel = ReadStatusKb("VmRSS:");
        AnsiConsole.WriteLine(
            $"CLIP {name} ({config.Describe()}), random weights, batch {batch}, {torch.get_num_threads()} threads, " +
            $"{warmup} warm-up + {iterations} timed iterations; model {(rssModel - rssBefore) / 1024.0:F0} MiB resident");

        var table = new Table();
        table.AddColumn("pass");
        table.AddColumn(new TableColumn("s / batch").RightAligned());
        table.AddColumn(new TableColumn("images / s").RightAligned());
        table.AddColumn(new TableColumn("CPU s / batch").RightAligned());
        table.AddColumn(new TableColumn("peak RSS (MiB)").RightAligned());

        var forward = Measure(warmup, iterations, () =>
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            var pixels = torch.randn(batch, 3, config.ImageResolution, config.ImageResolution);
            model.EncodeImage(pixels).sum().item<float>();
        });
        AddRow(table, "encode_image (no_grad)", forward, batch);

        var backward = Measure(warmup, iterations, () =>
        {
            using var scope = torch.NewDisposeScope();
            var pixels = torch.randn(batch, 3, config.ImageResolution, config.ImageResolution).requires_grad_(true);
            var features = model.EncodeImage(pixels);
            features.pow(2).sum().backward();
            pixels.grad!.sum().item<float>();
        });
        AddRow(table, "encode_image + backward to pixels", backward, batch);
        AnsiConsole.Write(table);
    }

    /// <summary>Wall time and process CPU time per batch (CPU time tells more on a shared machine), and the pass's peak RSS.</summary>
    private static (double SecondsPerBatch, double CpuSecondsPerBatch, long PeakKb) Measure(int warmup, int iterations, Action step)
    {
        ResetPeakRss();
        for (int i = 0; i < warmup; i++) step();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuStart = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) step();
        watch.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        return (watch.Elapsed.TotalSeconds / iterations, cpu / iterations, ReadStatusKb("VmHWM:"));
    }

    private static void AddRow(Table table, string pass, (double SecondsPerBatch, double CpuSecondsPerBatch, long PeakKb) m, int batch) =>
        table.AddRow(pass,
            m.SecondsPerBatch.ToString("F3", CultureInfo.InvariantCulture),
            (batch / m.SecondsPerBatch).ToString("F1", CultureInfo.InvariantCulture),
            m.CpuSecondsPerBatch.ToString("F2", CultureInfo.InvariantCulture),
            m.PeakKb < 0 ? "n/a" : (m.PeakKb / 1024.0).ToString("F0", CultureInfo.InvariantCulture));

    /// <summary>Linux: writing 5 to clear_refs resets VmHWM (peak RSS) so each pass reports its own peak.</summary>
    private static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static long ReadStatusKb(string field)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? -1 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }
}
