using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using VqganClip.Cli.Benchmarking;
using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Models.BigGan;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip bench biggan</c>: seconds per Big Sleep step (the biggan generator's guided loop with Big Sleep's
/// own settings, <see cref="RunRecipe.BigSleepOriginal"/>: Adam 0.07, 128 "bigsleep" cutouts, −100·cos prompt loss, EMA 0.5)
/// at each size, on a BigGAN-deep of the published config of that size with random weights
/// (<see cref="BigGanConfig.Published"/>: 50.4 M parameters at 128, 55.9 M at 256, 56.2 M at 512) and a CLIP of
/// ViT-B/32's published size with random weights (Big Sleep's CLIP; <c>--clip</c> for a real one), and the process's
/// peak resident memory. The time split: the BigGAN's forward and backward to the latents, timed on their own after
/// the steps, and the rest of the step (cutouts, CLIP forward and backward, losses, Adam). A benchmark that prints
/// figures, not a test.
/// </summary>
public static class BenchBigGanCommand
{
    /// <summary>The prompt of every timed step (the loop benchmark's).</summary>
    public const string Prompt = "a lighthouse on a cliff in a storm, oil painting";

    /// <summary>What to time.</summary>
    public sealed record Settings
    {
        /// <summary>Picture sides: published BigGAN-deep sizes (128, 256, 512).</summary>
        public IReadOnlyList<int> Sizes { get; init; } = [128, 256];
        /// <summary>Timed steps per size (after <see cref="WarmupSteps"/>).</summary>
        public int Steps { get; init; } = 3;
        public int WarmupSteps { get; init; } = 1;
        /// <summary>Cutouts per step (null: Big Sleep's 128).</summary>
        public int? CutCount { get; init; }
        /// <summary>A CLIP checkpoint (null: ViT-B/32's published size with random weights).</summary>
        public string? ClipPath { get; init; }
        public int? Threads { get; init; }
        /// <summary>The BigGANs' channel_width (128: the published; smaller for quick checks).</summary>
        public int ChannelWidth { get; init; } = 128;
        /// <summary>Times the BigGAN's forward and backward on their own this many times per size (0: no split).</summary>
        public int SplitRepeats { get; init; } = 2;
    }

    /// <summary>The figures of one size.</summary>
    public sealed record Row(int Size, long BigGanParameters, int Cutouts, IReadOnlyList<double> StepSeconds, double? GeneratorSeconds, double PeakRssMb)
    {
        /// <summary>Median of the timed steps.</summary>
        public double MedianSeconds => BenchResult.Median(StepSeconds);

        /// <summary>The step less the BigGAN's forward and backward: cutouts, CLIP forward and backward, losses, Adam.</summary>
        public double? RestSeconds => GeneratorSeconds is double g ? Math.Max(0, MedianSeconds - g) : null;
    }

    /// <summary>Everything the command prints.</summary>
    public sealed record Figures(int Threads, string Clip, string BigGan, int WarmupSteps, IReadOnlyList<Row> Rows)
    {
        public double PeakRssMb => Rows.Select(r => r.PeakRssMb).DefaultIfEmpty(-1).Max();
    }

    public static Command Create(IAnsiConsole? console = null)
    {
        var sizes = GuidedStepBench.SizesOption("Picture sides: published BigGAN-deep sizes (128, 256, 512)", [128, 256]);
        var steps = new Option<int>("--steps") { Description = "Timed steps per size (after the warm-up)", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps first", DefaultValueFactory = _ => 1 };
        var cutn = new Option<int?>("--cutn") { Description = "Cutouts per step (default: Big Sleep's 128)" };
        var clip = new Option<FileInfo?>("--clip") { Description = "A CLIP checkpoint (default: ViT-B/32's published size with random weights, Big Sleep's CLIP)" };
        var threads = ThreadsOption.Create();
        var width = new Option<int>("--channel-width") { Description = "The BigGANs' channel_width (default the published 128; smaller for a quick check)", DefaultValueFactory = _ => 128 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };

        var command = new Command("biggan", "Seconds per Big Sleep step (BigGAN-deep + CLIP, Big Sleep's defaults) at 128 and 256 px with random weights of the published sizes, and peak memory")
        {
            sizes, steps, warmup, cutn, clip, threads, width, json,
        };
        command.SetAction(parse =>
        {
            var output = console ?? AnsiConsole.Console;
            var settings = new Settings
            {
                Sizes = parse.GetValue(sizes) ?? [],
                Steps = parse.GetValue(steps),
                WarmupSteps = parse.GetValue(warmup),
                CutCount = parse.GetValue(cutn),
                ClipPath = parse.GetValue(clip)?.FullName,
                Threads = parse.GetValue(threads),
                ChannelWidth = parse.GetValue(width),
            };
            bool asJson = parse.GetValue(json);
            Action<string>? log = asJson ? null : line => output.MarkupLineInterpolated($"[grey]{line}[/]");
            var figures = Run(settings, log);
            if (asJson) output.Profile.Out.Writer.WriteLine(ToJson(figures).ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            else Write(figures, output);
            return UserErrors.Ok;
        });
        return command;
    }

    /// <summary>Times a Big Sleep step at every size of <paramref name="settings"/>.</summary>
    public static Figures Run(Settings settings, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Sizes.Count == 0) throw new ArgumentException("--sizes needs at least one size (128, 256 or 512).");
        foreach (int size in settings.Sizes)
            if (!BigGanConfig.PublishedSizes.Contains(size))
                throw new ArgumentException($"--sizes: BigGAN-deep was published at {string.Join(", ", BigGanConfig.PublishedSizes)} px, not {size}.");
        GuidedStepBench.CheckCommonSettings(settings.Steps, settings.WarmupSteps, settings.Threads, settings.ClipPath);
        if (settings.ChannelWidth < 4 || settings.ChannelWidth % 4 != 0)
            throw new ArgumentException($"--channel-width must be a positive multiple of 4; got {settings.ChannelWidth}.");
        var recipe = RunRecipe.BigSleepOriginal with
        {
            Prompt = Prompt,
            Seed = 0,
            Steps = settings.WarmupSteps + settings.Steps,
        };
        if (settings.CutCount is int n) recipe = recipe with { CutCount = n };
        recipe.Validate();   // --cutn's range, before any model is built

        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(settings.Threads);
        using var seed = TorchRuntime.Seed(0);

        using var clip = GuidedStepBench.LoadClip(settings.ClipPath, log, out string clipName);
        string bigganName = settings.ChannelWidth == 128
            ? "BigGAN-deep of the published config of each size (random weights)"
            : $"BigGAN-deep layers of the published config of each size at channel_width {settings.ChannelWidth}, not the published 128 (random weights)";

        var rows = GuidedStepBench.PerSize(settings.Sizes, size => TimeSize(size, settings, recipe, clip, log));
        return new Figures(TorchRuntime.Threads, clipName, bigganName, settings.WarmupSteps, rows);
    }

    private static Row TimeSize(int size, Settings settings, RunRecipe recipe, ClipModel clip, Action<string>? log)
    {
        var config = BigGanConfig.Published(size, settings.ChannelWidth);
        using var biggan = new BigGanModel(config);   // random weights, frozen, eval (spectral norms folded from the random u, v)
        long parameters = biggan.parameters().Sum(p => p.numel());
        log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"{size} px: BigGAN-deep of {parameters / 1e6:F1} M parameters, random weights; {recipe.CutCount} cutouts of {clip.ImageSize}"));
        using var run = recipe.CreateRun(clip, vqgan: null, biggan: biggan);
        var (times, generator) = GuidedStepBench.TimeSteps(run, size, settings.WarmupSteps, settings.Steps, settings.SplitRepeats, "BigGAN", log);
        return new Row(size, parameters, run.Cutouts.Count, times, generator, ProcessMemory.PeakResidentMb);
    }

    /// <summary>The figures as one JSON object (snake_case keys; seconds, MB).</summary>
    public static JsonObject ToJson(Figures figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var rows = new JsonArray();
        foreach (var r in figures.Rows)
            rows.Add(new JsonObject
            {
                ["size"] = r.Size,
                ["biggan_parameters"] = r.BigGanParameters,
                ["cutouts"] = r.Cutouts,
                ["step_seconds"] = new JsonArray(r.StepSeconds.Select(s => (JsonNode?)JsonValue.Create(Math.Round(s, 4))).ToArray()),
                ["median_step_seconds"] = Math.Round(r.MedianSeconds, 4),
                ["biggan_forward_backward_seconds"] = r.GeneratorSeconds is double g ? Math.Round(g, 4) : null,
                ["rest_seconds"] = r.RestSeconds is double rest ? Math.Round(rest, 4) : null,
                ["peak_rss_mb"] = Math.Round(r.PeakRssMb, 0),
            });
        return new JsonObject
        {
            ["threads"] = figures.Threads,
            ["clip"] = figures.Clip,
            ["biggan"] = figures.BigGan,
            ["warmup_steps"] = figures.WarmupSteps,
            ["peak_rss_mb"] = Math.Round(figures.PeakRssMb, 0),
            ["rows"] = rows,
        };
    }

    private static void Write(Figures figures, IAnsiConsole console)
    {
        console.MarkupLineInterpolated($"[bold]bench biggan[/]: Big Sleep steps (Big Sleep's defaults: Adam 0.07, bigsleep cutouts, cosine prompt loss, EMA 0.5), {figures.Threads} thread(s)");
        console.MarkupLineInterpolated($"BigGAN: {figures.BigGan}; CLIP: {figures.Clip}");
        var table = new Table().AddColumn(new TableColumn("size").RightAligned()).AddColumn(new TableColumn("BigGAN params").RightAligned())
            .AddColumn("CLIP").AddColumn(new TableColumn("cutouts").RightAligned()).AddColumn(new TableColumn("s / step").RightAligned())
            .AddColumn(new TableColumn("BigGAN fwd+bwd (s)").RightAligned()).AddColumn(new TableColumn("CLIP + rest (s)").RightAligned())
            .AddColumn(new TableColumn("peak RSS (MB)").RightAligned());
        // the CLIP's short name in the table (its full description is in the line above)
        string clipShort = figures.Clip.Split(" (")[0];
        foreach (var r in figures.Rows)
            table.AddRow(r.Size.ToString(CultureInfo.InvariantCulture), FormattableString.Invariant($"{r.BigGanParameters / 1e6:F1} M"), clipShort,
                r.Cutouts.ToString(CultureInfo.InvariantCulture), r.MedianSeconds.ToString("F2", CultureInfo.InvariantCulture),
                r.GeneratorSeconds?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a", r.RestSeconds?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a",
                r.PeakRssMb < 0 ? "n/a" : r.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture));
        console.Write(table);
        int timed = figures.Rows.Count > 0 ? figures.Rows[0].StepSeconds.Count : 0;
        console.WriteLine(FormattableString.Invariant(
            $"s / step: median of {timed} timed steps after {figures.WarmupSteps} warm-up (each also renders the EMA picture once without gradient); BigGAN fwd+bwd: its forward and backward to the latents timed alone; CLIP + rest = the step less that."));
        console.WriteLine(FormattableString.Invariant($"Peak RSS (process high-water mark per size, the CLIP included): {figures.PeakRssMb:F0} MB"));
    }
}
