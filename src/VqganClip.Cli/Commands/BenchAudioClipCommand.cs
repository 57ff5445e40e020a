using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using VqganClip.Cli.Benchmarking;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip bench audioclip</c>: seconds to embed a clip (default 5 s at 44.1 kHz) with AudioCLIP's full-size
/// audio head (ESResNeXt-fbsp of the published configuration, random weights), forward only as an audio prompt
/// needs it (once per prompt, then cached), and the peak resident memory.
/// </summary>
public static class BenchAudioClipCommand
{
    public sealed record Figures(long Parameters, double ClipSeconds, int Frames, IReadOnlyList<double> Seconds, double PeakRssMb, int Threads);

    public static Command Create(IAnsiConsole? console = null)
    {
        var seconds = new Option<double>("--seconds") { Description = "Length of the clip embedded (seconds at 44.1 kHz)", DefaultValueFactory = _ => 5.0 };
        var runs = new Option<int>("--runs") { Description = "Timed embeddings (after the warm-up)", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed embeddings first", DefaultValueFactory = _ => 1 };
        var threads = ThreadsOption.Create();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var command = new Command("audioclip", "Seconds to embed a 5 s sound with AudioCLIP's full-size audio head (random weights of the published size), and peak memory")
        {
            seconds, runs, warmup, threads, json,
        };
        command.SetAction(parse =>
        {
            var output = console ?? AnsiConsole.Console;
            bool asJson = parse.GetValue(json);
            Action<string>? log = asJson ? null : line => output.MarkupLineInterpolated($"[grey]{line}[/]");
            var figures = Run(parse.GetValue(seconds), parse.GetValue(runs), parse.GetValue(warmup), parse.GetValue(threads), log);
            if (asJson) output.Profile.Out.Writer.WriteLine(ToJson(figures).ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            else Write(figures, output);
            return UserErrors.Ok;
        });
        return command;
    }

    public static Figures Run(double seconds, int runs, int warmup, int? threads, Action<string>? log = null)
    {
        if (seconds <= 0 || seconds > 600) throw new ArgumentException($"--seconds must be in (0, 600]; got {seconds.ToString(CultureInfo.InvariantCulture)}.");
        if (runs < 1) throw new ArgumentException($"--runs must be at least 1; got {runs}.");
        if (warmup < 0) throw new ArgumentException($"--warmup must be 0 or more; got {warmup}.");
        if (threads is < 1) throw new ArgumentException($"--threads must be 1 or more; got {threads}.");
        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(threads);
        using var seed = TorchRuntime.Seed(0);
        ProcessMemory.ResetPeak();

        log?.Invoke("building AudioCLIP's audio head of the published size with random weights");
        using var model = new AudioClipModel(AudioHeadConfig.Published());
        long parameters = model.AudioParameterCount;
        int samples = (int)Math.Round(seconds * AudioHeadConfig.SampleRate);
        using var audio = (randn(1, samples) * 3000.0).clamp(-32768, 32767); // a noise burst in the int16 range
        int frames = SignalFraming.FrameCount(samples, model.Config.WinLength, model.Config.HopLength);

        var times = new List<double>();
        for (int i = 0; i < warmup + runs; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var sw = Stopwatch.StartNew();
            var embedding = model.EncodeAudio(audio);
            _ = embedding.sum().item<float>();
            double s = sw.Elapsed.TotalSeconds;
            if (i >= warmup) times.Add(s);
            log?.Invoke(FormattableString.Invariant($"embedding {i + 1}/{warmup + runs}{(i < warmup ? " (warm-up)" : "")}: {s:F2} s, RSS {ProcessMemory.ResidentMb:F0} MB"));
        }
        return new Figures(parameters, seconds, frames, times, ProcessMemory.PeakResidentMb, get_num_threads());
    }

    public static JsonObject ToJson(Figures f) => new()
    {
        ["benchmark"] = "audioclip",
        ["audio_head_parameters"] = f.Parameters,
        ["clip_seconds"] = f.ClipSeconds,
        ["frames"] = f.Frames,
        ["seconds"] = new JsonArray(f.Seconds.Select(s => (JsonNode)Math.Round(s, 3)).ToArray()),
        ["median_seconds"] = Math.Round(Median(f.Seconds), 3),
        ["peak_rss_mb"] = Math.Round(f.PeakRssMb, 0),
        ["threads"] = f.Threads,
    };

    private static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static void Write(Figures f, IAnsiConsole console)
    {
        var table = new Table().Title("AudioCLIP audio head (ESResNeXt-fbsp, published size, random weights), forward only")
            .AddColumn("clip").AddColumn(new TableColumn("frames").RightAligned()).AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn("median s").RightAligned()).AddColumn(new TableColumn("runs (s)").RightAligned())
            .AddColumn(new TableColumn("peak RSS (MB)").RightAligned()).AddColumn(new TableColumn("threads").RightAligned());
        table.AddRow(
            FormattableString.Invariant($"{f.ClipSeconds:0.##} s at 44.1 kHz"),
            f.Frames.ToString(CultureInfo.InvariantCulture),
            FormattableString.Invariant($"{f.Parameters / 1e6:F1}M"),
            Median(f.Seconds).ToString("F2", CultureInfo.InvariantCulture),
            string.Join(" ", f.Seconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture))),
            f.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture),
            f.Threads.ToString(CultureInfo.InvariantCulture));
        console.Write(table);
    }
}
