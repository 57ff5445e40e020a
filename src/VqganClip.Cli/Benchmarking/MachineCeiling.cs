using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Cli.Benchmarking;

/// <summary>
/// What this machine's libtorch does at best, measured now with the current thread count: a float32 matrix product
/// (2048x2048 sgemm) and a 3x3 convolution of VQGAN decoder size (128→128 channels, 128x128, padding 1), each the
/// best of a few runs after a warm-up, under no_grad. These are the ceilings a guidance step's GFLOP/s is read against.
/// </summary>
public static class MachineCeiling
{
    public static double SgemmGflops(int n = 2048, int repeats = 3)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var a = randn(n, n);
        var b = randn(n, n);
        return BestGflops(2.0 * n * n * n, repeats, () => { using var c = a.mm(b); });
    }

    public static double Conv3x3Gflops(int channels = 128, int side = 128, int repeats = 3)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = randn(1, channels, side, side);
        var w = randn(channels, channels, 3, 3) * 0.03;
        var bias = zeros(channels);
        double flop = 2.0 * channels * channels * 9 * side * side;
        return BestGflops(flop, repeats, () => { using var y = nn.functional.conv2d(x, w, bias, padding: new long[] { 1, 1 }); });
    }

    private static double BestGflops(double flop, int repeats, Action run)
    {
        run(); // warm-up: first-call allocations, kernel selection
        double best = double.MaxValue;
        for (int i = 0; i < Math.Max(1, repeats); i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return flop / best / 1e9;
    }
}
