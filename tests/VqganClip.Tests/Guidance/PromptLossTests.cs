using TorchSharp;
using VqganClip.Guidance.Prompts;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

public class PromptLossTests
{
    private static double Spherical(double[] x, double[] y)
    {
        double nx = Math.Sqrt(x.Sum(v => v * v)), ny = Math.Sqrt(y.Sum(v => v * v));
        double d = Math.Sqrt(x.Zip(y, (a, b) => Math.Pow(a / nx - b / ny, 2)).Sum());
        return 2 * Math.Pow(Math.Asin(d / 2), 2);
    }

    [Fact]
    public void LossIsTheWeightedMeanSphericalDistance()
    {
        var target = new double[] { 1, 0, 0 };
        var images = new[] { new double[] { 1, 1, 0 }, new double[] { 0, 0, 2 }, new double[] { -1, 0.5, 0.1 } };
        using var embed = tensor(target.Select(v => (float)v).ToArray(), new long[] { 1, 3 });
        using var x = tensor(images.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { 3, 3 });
        double expected = images.Average(r => Spherical(r, target));
        foreach (var w in new[] { 1.0, 2.5, -0.5 })
        {
            using var p = new Prompt(PromptSpec.FromText("t", w), embed);
            using var loss = p.Loss(x);
            Assert.Equal(w * expected, loss.item<float>(), 5);
        }
    }

    [Fact]
    public void StopKeepsTheValueButCutsTheGradientBelowIt()
    {
        using var embed = tensor(new float[] { 1, 0 }, new long[] { 1, 2 });
        using var x = tensor(new float[] { 1, 0.1f, 0, 1 }, new long[] { 2, 2 }).requires_grad_(true); // one close, one far
        double close = Spherical(new double[] { 1, 0.1 }, new double[] { 1, 0 });
        double far = Spherical(new double[] { 0, 1 }, new double[] { 1, 0 });
        using var p = new Prompt(PromptSpec.FromText("t", 1, stop: (close + far) / 2), embed);
        using var loss = p.Loss(x);
        Assert.Equal((close + far) / 2, loss.item<float>(), 5);      // the value is not clamped
        loss.backward();
        var g = x.grad!.data<float>().ToArray();
        Assert.Equal(0f, g[0]);                                     // the close one is below the stop: no pull
        Assert.Equal(0f, g[1]);
        Assert.NotEqual(0f, g[2]);                                  // the far one still pulls
    }
}
