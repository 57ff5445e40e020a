using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using VqganClip.Models.Cost;

namespace VqganClip.Cli.Benchmarking;

/// <summary>The seconds and estimated FLOP of one phase of a profiled step (<c>bench --profile</c>).</summary>
public sealed record PhaseTiming(string Phase, double MedianSeconds, double Flop)
{
    public double Gflops => MedianSeconds > 0 && Flop > 0 ? Flop / MedianSeconds / 1e9 : 0;
}

/// <summary>What <c>vqgan-clip bench</c> measured: step times, memory, estimated work and the machine's ceilings.</summary>
public sealed record BenchResult
{
    public required BenchSetup Setup { get; init; }
    public required int Threads { get; init; }
    public required int WarmupSteps { get; init; }
    /// <summary>Wall seconds of every timed step (warm-up excluded), in order.</summary>
    public required IReadOnlyList<double> StepSeconds { get; init; }
    /// <summary>VmRSS after every step, warm-up included, MB.</summary>
    public required IReadOnlyList<double> RssMbAfterStep { get; init; }
    public required double PeakRssMb { get; init; }
    public required FlopTally Flops { get; init; }
    public required int ImageWidth { get; init; }
    public required int ImageHeight { get; init; }
    public required int CutSize { get; init; }
    public double? SgemmGflops { get; init; }
    public double? Conv3x3Gflops { get; init; }
    public IReadOnlyList<PhaseTiming>? Profile { get; init; }
    /// <summary>Managed tensor handles the last step created (each a call into libtorch that returned a tensor; the backward's own operations run natively and are not counted).</summary>
    public long TensorsPerStep { get; init; }
    /// <summary>Median CPU seconds of the calling thread per timed step (<see cref="ThreadCpuTime"/>; with one thread, the step's work without waits).</summary>
    public double? CpuSecondsMedian { get; init; }
    /// <summary>The fixed cost of one call through TorchSharp (<see cref="OpOverhead"/>), when measured.</summary>
    public OpOverhead.Figures? Overhead { get; init; }

    public double MedianSeconds => Median(StepSeconds);
    public double MinSeconds => StepSeconds.Min();
    public double MaxSeconds => StepSeconds.Max();
    public double GflopPerStep => Flops.Total.Total / 1e9;
    public double AchievedGflops => GflopPerStep / MedianSeconds;

    /// <summary>
    /// The step time if every counted FLOP ran at the machine's measured rate: VQGAN convolutions at the 3x3
    /// convolution rate, everything else (CLIP linears and attention, VQGAN attention, code search) at the sgemm rate.
    /// </summary>
    public double? CeilingSeconds
    {
        get
        {
            if (SgemmGflops is not double gemm || Conv3x3Gflops is not double conv) return null;
            double convFlop = Flops.Parts.Where(p => p.Part == "VQGAN convolutions").Sum(p => p.Flops.Total);
            double rest = Flops.Total.Total - convFlop;
            return convFlop / (conv * 1e9) + rest / (gemm * 1e9);
        }
    }

    /// <summary>VmRSS growth from the step-100 sample (or the first step after warm-up when there are fewer) to the last, in percent.</summary>
    public double RssGrowthPercent
    {
        get
        {
            int from = RssMbAfterStep.Count > 100 ? 99 : Math.Min(WarmupSteps, RssMbAfterStep.Count - 1);
            return (RssMbAfterStep[^1] - RssMbAfterStep[from]) / RssMbAfterStep[from] * 100;
        }
    }

    /// <summary>The figures as one JSON object (snake_case keys; seconds, MB, GFLOP, GFLOP/s).</summary>
    public JsonObject ToJson()
    {
        var parts = new JsonObject();
        foreach (var (part, flops) in Flops.Parts) parts[part] = Round(flops.Total / 1e9);
        var o = new JsonObject
        {
            ["config"] = Setup.Name,
            ["description"] = Setup.Description,
            ["image"] = $"{ImageWidth}x{ImageHeight}",
            ["cutn"] = Setup.CutCount,
            ["cutouts_encoded"] = BenchRunner.EncodedCutouts(ImageWidth, ImageHeight, CutSize, Setup.CutCount),
            ["cut_size"] = CutSize,
            ["threads"] = Threads,
            ["malloc"] = VqganClip.Models.Runtime.MallocTuning.Status,
            ["warmup_steps"] = WarmupSteps,
            ["steps"] = StepSeconds.Count,
            ["s_per_step_median"] = Round(MedianSeconds),
            ["s_per_step_min"] = Round(MinSeconds),
            ["s_per_step_max"] = Round(MaxSeconds),
            ["thread_cpu_s_per_step_median"] = CpuSecondsMedian is double cpu ? Round(cpu) : null,
            ["peak_rss_mb"] = Round(PeakRssMb, 0),
            ["rss_mb_after_warmup"] = Round(RssMbAfterStep[Math.Min(WarmupSteps, RssMbAfterStep.Count - 1)], 0),
            ["rss_mb_final"] = Round(RssMbAfterStep[^1], 0),
            ["rss_growth_pct"] = Round(RssGrowthPercent, 2),
            ["gflop_per_step"] = Round(GflopPerStep),
            ["gflop_forward"] = Round(Flops.Total.Forward / 1e9),
            ["gflop_backward"] = Round(Flops.Total.Backward / 1e9),
            ["gflop_parts"] = parts,
            ["achieved_gflops"] = Round(AchievedGflops),
            ["machine_sgemm_gflops"] = SgemmGflops is double g ? Round(g) : null,
            ["machine_conv3x3_gflops"] = Conv3x3Gflops is double c ? Round(c) : null,
            ["fraction_of_sgemm"] = SgemmGflops is double g2 ? Round(AchievedGflops / g2) : null,
            ["ceiling_s_per_step"] = CeilingSeconds is double cs ? Round(cs) : null,
            ["fraction_of_ceiling"] = CeilingSeconds is double cs2 ? Round(cs2 / MedianSeconds) : null,
            ["tensors_per_step"] = TensorsPerStep,
        };
        if (Overhead is { } oh)
            o["op_overhead_us"] = new JsonObject
            {
                ["add_new_tensor"] = Round(oh.AddNewTensorUs, 3),
                ["add_in_place"] = Round(oh.AddInPlaceUs, 3),
                ["add_recorded_for_autograd"] = Round(oh.AddWithGradUs, 3),
                ["item"] = Round(oh.ItemUs, 3),
                ["shape"] = Round(oh.ShapeUs, 3),
            };
        if (Profile is not null)
        {
            var phases = new JsonArray();
            foreach (var p in Profile)
                phases.Add(new JsonObject { ["phase"] = p.Phase, ["s_median"] = Round(p.MedianSeconds), ["gflop"] = Round(p.Flop / 1e9), ["gflops"] = Round(p.Gflops) });
            o["profile"] = phases;
        }
        return o;
    }

    public string ToJsonString() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = false });

    public void Write(IAnsiConsole console)
    {
        console.MarkupLineInterpolated($"[bold]bench {Setup.Name}[/]: {Setup.Description}; {Threads} thread(s), {WarmupSteps} warm-up + {StepSeconds.Count} timed steps");
        var t = new Table().AddColumn("figure").AddColumn(new TableColumn("value").RightAligned());
        t.AddRow("s / step (median)", F(MedianSeconds, 3));
        t.AddRow("s / step (min .. max)", $"{F(MinSeconds, 3)} .. {F(MaxSeconds, 3)}");
        if (CpuSecondsMedian is double cpu) t.AddRow("calling thread's CPU s / step (median)", F(cpu, 3));
        t.AddRow("peak RSS (MB)", F(PeakRssMb, 0));
        t.AddRow("RSS growth (%)", F(RssGrowthPercent, 2));
        t.AddRow("GFLOP / step (fwd + bwd)", $"{F(GflopPerStep, 2)} ({F(Flops.Total.Forward / 1e9, 2)} + {F(Flops.Total.Backward / 1e9, 2)})");
        t.AddRow("achieved GFLOP/s", F(AchievedGflops, 1));
        if (SgemmGflops is double g) t.AddRow("machine sgemm 2048 GFLOP/s", F(g, 1));
        if (Conv3x3Gflops is double c) t.AddRow("machine conv3x3 GFLOP/s", F(c, 1));
        if (SgemmGflops is double g3) t.AddRow("fraction of sgemm", F(AchievedGflops / g3, 2));
        if (CeilingSeconds is double cs) t.AddRow("ceiling s / step (fraction reached)", $"{F(cs, 3)} ({F(cs / MedianSeconds, 2)})");
        t.AddRow("tensors created / step", TensorsPerStep.ToString(CultureInfo.InvariantCulture));
        if (Overhead is { } oh)
        {
            t.AddRow("µs / call: add, new tensor", F(oh.AddNewTensorUs, 2));
            t.AddRow("µs / call: add_ in place", F(oh.AddInPlaceUs, 2));
            t.AddRow("µs / call: add recorded for autograd", F(oh.AddWithGradUs, 2));
            t.AddRow("µs / call: item", F(oh.ItemUs, 2));
            t.AddRow("µs / call: shape", F(oh.ShapeUs, 2));
        }
        console.Write(t);
        var parts = new Table().AddColumn("part").AddColumn(new TableColumn("GFLOP fwd").RightAligned()).AddColumn(new TableColumn("GFLOP bwd").RightAligned());
        foreach (var (part, f) in Flops.Parts) parts.AddRow(part, F(f.Forward / 1e9, 2), F(f.Backward / 1e9, 2));
        console.Write(parts);
        if (Profile is not null)
        {
            var p = new Table().AddColumn("phase").AddColumn(new TableColumn("s (median)").RightAligned())
                .AddColumn(new TableColumn("GFLOP").RightAligned()).AddColumn(new TableColumn("GFLOP/s").RightAligned());
            foreach (var ph in Profile) p.AddRow(Markup.Escape(ph.Phase), F(ph.MedianSeconds, 4), F(ph.Flop / 1e9, 2), ph.Flop > 0 ? F(ph.Gflops, 1) : "");
            console.Write(p);
        }
    }

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double Round(double v, int digits = 4) => Math.Round(v, digits);

    private static string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
}
