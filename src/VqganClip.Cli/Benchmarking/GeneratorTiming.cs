using System.Diagnostics;
using VqganClip.Guidance.Generators;
using static TorchSharp.torch;

namespace VqganClip.Cli.Benchmarking;

/// <summary>The generator's share of a guided step, timed alone (bench biggan, bench stylegan).</summary>
public static class GeneratorTiming
{
    /// <summary>Median seconds of the generator's render and the backward from its picture to its parameters (the loop's gradients are zeroed at every step).</summary>
    public static double RenderAndBackwardSeconds(IImageGenerator generator, int repeats)
    {
        var samples = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            var image = generator.Render();
            image.sum().backward();
            foreach (var p in generator.Parameters) p.grad?.zero_();
            samples.Add(watch.Elapsed.TotalSeconds);
        }
        return BenchResult.Median(samples);
    }
}
