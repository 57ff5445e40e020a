using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Cli.Benchmarking;

/// <summary>
/// The fixed cost of one operation through TorchSharp, measured on one-element float32 tensors (the arithmetic is
/// nothing, so what is timed is the call: the P/Invoke, libtorch's dispatcher, the output tensor's allocation, the
/// managed handle and its registration in the dispose scope, and its disposal). <c>tools/op_overhead.py</c> times the
/// same calls in PyTorch. Median of several rounds, microseconds per call.
/// </summary>
public static class OpOverhead
{
    public sealed record Figures(double AddNewTensorUs, double AddInPlaceUs, double AddWithGradUs, double ItemUs, double ShapeUs);

    public static Figures Measure(int calls = 20000, int rounds = 5)
    {
        using var scope = NewDisposeScope();
        var a = ones(1);
        var b = ones(1);
        var g = ones(1).requires_grad_(true);
        double AddNew() { using var s = NewDisposeScope(); for (int i = 0; i < calls; i++) a.add(b); return 0; }
        double AddInPlace() { using var _ = no_grad(); for (int i = 0; i < calls; i++) a.add_(b); return 0; }
        double AddGrad() { using var s = NewDisposeScope(); for (int i = 0; i < calls; i++) g.add(b); return 0; }
        double Item() { double t = 0; for (int i = 0; i < calls; i++) t += b.item<float>(); return t; }
        double Shape() { long t = 0; for (int i = 0; i < calls; i++) t += a.shape[0]; return t; }
        return new Figures(Time(AddNew, calls, rounds), Time(AddInPlace, calls, rounds), Time(AddGrad, calls, rounds),
            Time(Item, calls, rounds), Time(Shape, calls, rounds));
    }

    private static double Time(Func<double> run, int calls, int rounds)
    {
        run();
        var samples = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            var watch = Stopwatch.StartNew();
            run();
            samples.Add(watch.Elapsed.TotalSeconds / calls * 1e6);
        }
        return BenchResult.Median(samples);
    }

    /// <summary>Managed tensor handles created while <paramref name="run"/> runs on this thread (each one a native call that returned a tensor).</summary>
    public static long TensorsCreated(Action run)
    {
        var stats = DisposeScopeManager.Statistics;
        long before = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        run();
        return stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - before;
    }
}
