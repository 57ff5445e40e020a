using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Losses;

/// <summary>Total variation: weight × mean squared difference between neighbouring pixels. Smooths high-frequency noise.</summary>
public sealed class TotalVariationLoss : IRegularizer
{
    public TotalVariationLoss(double weight) => Weight = weight;

    public double Weight { get; }
    public string Name => "tv";

    public Tensor? Compute(LossContext context)
    {
        if (Weight == 0) return null;
        using var scope = NewDisposeScope();
        var x = context.Image;
        var dx = (x[.., .., .., 1..] - x[.., .., .., ..^1]).pow(2).mean();
        var dy = (x[.., .., 1.., ..] - x[.., .., ..^1, ..]).pow(2).mean();
        return ((dx + dy) * Weight).MoveToOuterDisposeScope();
    }

    public void Dispose() { }
}
