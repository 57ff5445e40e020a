using VqganClip.Guidance.BigSleep;
using static TorchSharp.torch;

namespace VqganClip.Tests.BigSleep;

public class DifferentiableTopKTests
{
    private static double[] Softmax(params double[] x)
    {
        var e = x.Select(Math.Exp).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    [Fact]
    public void EachPickIsItsSoftmaxOverTheEntriesStillInPlay()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3, 0.5f, /* row 2 */ 4, -1, 0, 2 }, new long[] { 2, 4 });
        var y = DifferentiableTopK.Apply(x, 2, temperature: 2).data<float>().ToArray();
        // row 1 at T = 2: first softmax over (0.5, 1, 1.5, 0.25) picks entry 2; then over (0.5, 1, 0.25) picks entry 1
        var r1a = Softmax(0.5, 1, 1.5, 0.25);
        var r1b = Softmax(0.5, 1, 0.25);
        var expected1 = new[] { 0, r1b[1], r1a[2], 0 };
        // row 2: (2, -0.5, 0, 1) picks entry 0, then (-0.5, 0, 1) picks entry 3
        var r2a = Softmax(2, -0.5, 0, 1);
        var r2b = Softmax(-0.5, 0, 1);
        var expected2 = new[] { r2a[0], 0, 0, r2b[2] };
        var expected = expected1.Concat(expected2).ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - y[i]) < 1e-6, $"entry {i}: {y[i]} vs {expected[i]}");
    }

    [Fact]
    public void KEqualsOneKeepsTheMaximumProbabilityAndItsGradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 0.3f, -1, 2 }, new long[] { 1, 3 }).requires_grad_(true);
        const double t = 2;
        var y = DifferentiableTopK.Apply(x, 1, t);
        var s = Softmax(0.15, -0.5, 1.0);
        Assert.Equal(new[] { 0f, 0f, (float)s[2] }, y.data<float>().ToArray());
        y.sum().backward();
        // d s_2 / d x_i = (1/T) · s_2 · (δ_2i − s_i)
        var g = x.grad!.data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            double expected = s[2] * ((i == 2 ? 1 : 0) - s[i]) / t;
            Assert.True(Math.Abs(expected - g[i]) < 1e-6, $"grad {i}: {g[i]} vs {expected}");
        }
    }

    [Fact]
    public void ClassVectorsAreSigmoidWithoutMaxClassesAndTopKWithIt()
    {
        using var scope = NewDisposeScope();
        var cls = tensor(new float[] { -3.9f, 0, 1.5f, -2 }, new long[] { 1, 4 });
        var plain = BigSleepLosses.ClassVectors(cls).data<float>().ToArray();
        Assert.Equal(1 / (1 + Math.Exp(3.9)), plain[0], 6);
        Assert.Equal(0.5, plain[1], 6);
        var limited = BigSleepLosses.ClassVectors(cls, maxClasses: 2, temperature: 2).data<float>().ToArray();
        Assert.Equal(2, limited.Count(v => v > 0));
        Assert.Equal(Softmax(-1.95, 0, 0.75, -1)[2], limited[2], 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => BigSleepLosses.ClassVectors(cls, maxClasses: 5));
    }
}
