using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using VqganClip.Cli.Benchmarking;
using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip bench stylegan</c>: seconds per StyleCLIP step (the stylegan generator's guided loop with StyleCLIP's
/// defaults, <see cref="RunRecipe.DefaultsFor"/>: Adam 0.1 with its schedule, the whole picture pooled to CLIP's side,
/// 1 − logits/100, the L2 anchor, W+ optimised) at each size, on a StyleGAN2 of the published config-f shape
/// (<see cref="StyleGan2Config.Published"/>: channel_multiplier 2, style 512, n_mlp 8) with random weights and a CLIP
/// of ViT-B/32's published size with random weights (StyleCLIP's CLIP; <c>--clip</c> for a real one), and the
/// process's peak resident memory. The split: the StyleGAN2's forward and backward to W+, timed on its own after the
/// steps; the rest (pooling, CLIP forward and backward, losses, Adam). The learning rate is 0 at the first step, as
/// upstream: the work per step is the same. A benchmark that prints figures, not a test.
/// </summary>
public static class BenchStyleGanCommand
{
    public const string Prompt = "a person with purple hair";

    public sealed record Settings
    {
        /// <summary>Picture sides (powers of two; the published models are 256, 512 and 1024).</summary>
        public IReadOnlyList<int> Sizes { get; init; } = [256, 1024];
        public int Steps { get; init; } = 2;
        public int WarmupSteps { get; init; } = 1;
        public string? ClipPath { get; init; }
        public int? Threads { get; init; }
        /// <summary>Times the StyleGAN2's forward and backward alone this many times per size (0: no split).</summary>
        public int SplitRepeats { get; init; } = 1;
        /// <summary>Optimise StyleSpace instead of W+.</summary>
        public bool StyleSpace { get; init; }
    }

    public sealed record Row(int Size, long Parameters, IReadOnlyList<double> StepSeconds, double? GeneratorSeconds, double PeakRssMb)
    {
        public double MedianSeconds => BenchResult.Median(StepSeconds);
        public double? RestSeconds => GeneratorSeconds is double g ? Math.Max(0, MedianSeconds - g) : null;
    }

    public sealed record Figures(int Threads, string Clip, string StyleGan, int WarmupSteps, bool StyleSpace, IReadOnlyList<Row> Rows)
    {
        public double PeakRssMb => Rows.Select(r => r.PeakRssMb).DefaultIfEmpty(-1).Max();
    }

    public static Command Create(IAnsiConsole? console = null)
    {
        var sizes = GuidedStepBench.SizesOption("Picture sides, powers of two (the published StyleGAN2s: 256, 512, 1024)", [256, 1024]);
        var steps = new Option<int>("--steps") { Description = "Timed steps per size (after the warm-up)", DefaultValueFactory = _ => 2 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps first", DefaultValueFactory = _ => 1 };
        var clip = new Option<FileInfo?>("--clip") { Description = "A CLIP checkpoint (default: ViT-B/32's published size with random weights, StyleCLIP's CLIP)" };
        var threads = ThreadsOption.Create();
        var split = new Option<int>("--split") { Description = "Time the StyleGAN2's forward + backward alone this many times per size (0: skip)", DefaultValueFactory = _ => 1 };
        var styleSpace = new Option<bool>("--stylespace") { Description = "Optimise StyleSpace instead of W+" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };

        var command = new Command("stylegan", "Seconds per StyleCLIP step (StyleGAN2 config-f + CLIP, StyleCLIP's defaults) at 256 and 1024 px with random weights of the published sizes, and peak memory")
        {
            sizes, steps, warmup, clip, threads, split, styleSpace, json,
        };
        command.SetAction(parse =>
        {
            var output = console ?? AnsiConsole.Console;
            var settings = new Settings
            {
                Sizes = parse.GetValue(sizes) ?? [],
                Steps = parse.GetValue(steps),
                WarmupSteps = parse.GetValue(warmup),
                ClipPath = parse.GetValue(clip)?.FullName,
                Threads = parse.GetValue(threads),
                SplitRepeats = parse.GetValue(split),
                StyleSpace = parse.GetValue(styleSpace),
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

    public static Figures Run(Settings settings, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Sizes.Count == 0) throw new ArgumentException("--sizes needs at least one size (256, 512 or 1024).");
        foreach (int size in settings.Sizes)
            if (size < 32 || size > 1024 || (size & (size - 1)) != 0)
                throw new ArgumentException($"--sizes: a StyleGAN2 side is a power of two from 32 (StyleCLIP pools by size/32) to 1024, not {size}.");
        GuidedStepBench.CheckCommonSettings(settings.Steps, settings.WarmupSteps, settings.Threads, settings.ClipPath);
        var recipe = RunRecipe.DefaultsFor(StyleGanGenerator.GeneratorName) with
        {
            Prompt = Prompt,
            Seed = 0,
            Steps = settings.WarmupSteps + settings.Steps,
            StyleSpace = settings.StyleSpace,
        };
        recipe.Validate();

        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(settings.Threads);
        using var seed = TorchRuntime.Seed(0);

        using var clip = GuidedStepBench.LoadClip(settings.ClipPath, log, out string clipName);

        var rows = GuidedStepBench.PerSize(settings.Sizes, size => TimeSize(size, settings, recipe, clip, log));
        return new Figures(TorchRuntime.Threads, clipName, "StyleGAN2 config-f (channel_multiplier 2, style 512, n_mlp 8), random weights", settings.WarmupSteps, settings.StyleSpace, rows);
    }

    private static Row TimeSize(int size, Settings settings, RunRecipe recipe, ClipModel clip, Action<string>? log)
    {
        using var model = new StyleGan2Model(StyleGan2Config.Published(size));
        long parameters = model.parameters().Sum(p => p.numel());
        log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{size} px: StyleGAN2 of {parameters / 1e6:F2} M parameters, random weights; W+ [1, {model.NLatent}, 512]"));
        using var run = recipe.CreateRun(clip, vqgan: null, stylegan: model);
        var (times, generator) = GuidedStepBench.TimeSteps(run, size, settings.WarmupSteps, settings.Steps, settings.SplitRepeats, "StyleGAN2", log);
        return new Row(size, parameters, times, generator, ProcessMemory.PeakResidentMb);
    }

    public static JsonObject ToJson(Figures figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var rows = new JsonArray();
        foreach (var r in figures.Rows)
            rows.Add(new JsonObject
            {
                ["size"] = r.Size,
                ["stylegan_parameters"] = r.Parameters,
                ["step_seconds"] = new JsonArray(r.StepSeconds.Select(s => (JsonNode?)JsonValue.Create(Math.Round(s, 4))).ToArray()),
                ["median_step_seconds"] = Math.Round(r.MedianSeconds, 4),
                ["stylegan_forward_backward_seconds"] = r.GeneratorSeconds is double g ? Math.Round(g, 4) : null,
                ["rest_seconds"] = r.RestSeconds is double rest ? Math.Round(rest, 4) : null,
                ["peak_rss_mb"] = Math.Round(r.PeakRssMb, 0),
            });
        return new JsonObject
        {
            ["threads"] = figures.Threads,
            ["clip"] = figures.Clip,
            ["stylegan"] = figures.StyleGan,
            ["stylespace"] = figures.StyleSpace,
            ["warmup_steps"] = figures.WarmupSteps,
            ["peak_rss_mb"] = Math.Round(figures.PeakRssMb, 0),
            ["rows"] = rows,
        };
    }

    private static void Write(Figures figures, IAnsiConsole console)
    {
        console.MarkupLineInterpolated($"[bold]bench stylegan[/]: StyleCLIP steps (its defaults: Adam 0.1 and get_lr, whole picture pooled, 1 - logits/100, L2 0.008, {(figures.StyleSpace ? "StyleSpace" : "W+")}), {figures.Threads} thread(s)");
        console.MarkupLineInterpolated($"StyleGAN2: {figures.StyleGan}; CLIP: {figures.Clip}");
        var table = new Table().AddColumn(new TableColumn("size").RightAligned()).AddColumn(new TableColumn("G params").RightAligned())
            .AddColumn(new TableColumn("s / step").RightAligned()).AddColumn(new TableColumn("G fwd+bwd (s)").RightAligned())
            .AddColumn(new TableColumn("CLIP + rest (s)").RightAligned()).AddColumn(new TableColumn("peak RSS (MB)").RightAligned());
        foreach (var r in figures.Rows)
            table.AddRow(r.Size.ToString(CultureInfo.InvariantCulture), FormattableString.Invariant($"{r.Parameters / 1e6:F1} M"),
                r.MedianSeconds.ToString("F2", CultureInfo.InvariantCulture),
                r.GeneratorSeconds?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a", r.RestSeconds?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a",
                r.PeakRssMb < 0 ? "n/a" : r.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture));
        console.Write(table);
        int timed = figures.Rows.Count > 0 ? figures.Rows[0].StepSeconds.Count : 0;
        console.WriteLine(FormattableString.Invariant(
            $"s / step: median of {timed} timed steps after {figures.WarmupSteps} warm-up; G fwd+bwd: the StyleGAN2's forward and backward to the latent timed alone; CLIP + rest = the step less that."));
        console.WriteLine(FormattableString.Invariant($"Peak RSS (process high-water mark per size, the CLIP included): {figures.PeakRssMb:F0} MB"));
    }
}
