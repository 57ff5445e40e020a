using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VqganClip.Guidance;
using VqganClip.Models.Clip;

namespace VqganClip.Cli.Benchmarking;

/// <summary>
/// What the guided-step benchmarks of the GAN generators (bench biggan, bench stylegan) share: the <c>--sizes</c>
/// option, the benchmark's CLIP (a file, or ViT-B/32's published size with random weights), one fresh memory
/// high-water mark per size, and the timed steps of a guided run.
/// </summary>
public static class GuidedStepBench
{
    /// <summary><c>--sizes</c>: picture sides as whole numbers, given as <c>128,256</c> or <c>128 256</c>.</summary>
    public static Option<int[]> SizesOption(string description, int[] defaults)
    {
        string example = string.Join(',', defaults);
        return new Option<int[]>("--sizes")
        {
            Description = $"{description}, e.g. --sizes {example}",
            DefaultValueFactory = _ => defaults,
            AllowMultipleArgumentsPerToken = true,
            CustomParser = r =>
            {
                var values = new List<int>();
                foreach (var v in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                {
                    if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) values.Add(n);
                    else r.AddError($"--sizes: '{v}' is not a whole number (give e.g. --sizes {example}).");
                }
                return values.ToArray();
            },
        };
    }

    /// <summary>The settings both benchmarks share, checked before any model is built: each error names its option.</summary>
    public static void CheckCommonSettings(int steps, int warmupSteps, int? threads, string? clipPath)
    {
        if (steps < 1) throw new ArgumentException($"--steps must be at least 1; got {steps}.");
        if (warmupSteps < 0) throw new ArgumentException($"--warmup must be 0 or more; got {warmupSteps}.");
        if (threads is < 1) throw new ArgumentException($"--threads must be 1 or more; got {threads}.");
        if (clipPath is not null && !File.Exists(clipPath))
            throw new FileNotFoundException($"CLIP checkpoint '{clipPath}' does not exist.", clipPath);
    }

    /// <summary>The CLIP at <paramref name="clipPath"/>, or ViT-B/32's published size with random weights (null); <paramref name="name"/>: how the figures name it.</summary>
    public static ClipModel LoadClip(string? clipPath, Action<string>? log, out string name)
    {
        log?.Invoke(clipPath is null ? "building a CLIP of ViT-B/32's size with random weights" : $"loading {Path.GetFileName(clipPath)}");
        var clip = clipPath is null ? new ClipModel(ClipConfig.ViTB32) : ClipModel.Load(clipPath);
        name = clipPath is null
            ? $"{clip.Config.PublishedName ?? clip.Config.Describe()} (random weights)"
            : $"{Path.GetFileName(clipPath)} ({clip.Config.PublishedName ?? clip.Config.Describe()})";
        return clip;
    }

    /// <summary>One row per size, each timed after a collection and with the process's peak memory reset, so a row's peak is its own size's.</summary>
    public static List<TRow> PerSize<TRow>(IEnumerable<int> sizes, Func<int, TRow> time)
    {
        var rows = new List<TRow>();
        foreach (int size in sizes)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            ProcessMemory.ResetPeak();
            rows.Add(time(size));
        }
        return rows;
    }

    /// <summary>
    /// Seconds of each of the run's <paramref name="steps"/> steps after <paramref name="warmupSteps"/> untimed ones,
    /// and the median seconds of the generator's forward and backward alone (null when <paramref name="splitRepeats"/> is 0).
    /// </summary>
    public static (List<double> StepSeconds, double? GeneratorSeconds) TimeSteps(GuidedRun run, int size, int warmupSteps, int steps, int splitRepeats,
        string generatorName, Action<string>? log)
    {
        var times = new List<double>();
        int total = warmupSteps + steps;
        for (int i = 0; i < total; i++)
        {
            var watch = Stopwatch.StartNew();
            run.Step(1);
            double seconds = watch.Elapsed.TotalSeconds;
            if (i >= warmupSteps) times.Add(seconds);
            log?.Invoke(FormattableString.Invariant(
                $"{size} px step {i + 1}/{total}{(i < warmupSteps ? " (warm-up)" : "")}: {seconds:F2} s, RSS {ProcessMemory.ResidentMb:F0} MB"));
        }
        double? generator = splitRepeats > 0 ? GeneratorTiming.RenderAndBackwardSeconds(run.Generator, splitRepeats) : null;
        if (generator is double g) log?.Invoke(FormattableString.Invariant($"{size} px {generatorName} forward + backward alone: {g:F2} s"));
        return (times, generator);
    }
}
