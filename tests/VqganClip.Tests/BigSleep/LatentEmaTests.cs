using VqganClip.Guidance.BigSleep;
using static TorchSharp.torch;

namespace VqganClip.Tests.BigSleep;

public class LatentEmaTests
{
    [Fact]
    public void BiasCorrectedAverageByHand()
    {
        using var p0 = tensor(new float[] { 2, -1 });
        using var ema = new LatentEma(p0, decay: 0.5);
        // construction = upstream's first update: accum 0.5, biased 0.5·p0, average = biased / 0.5 = p0
        Assert.Equal(1, ema.Updates);
        Assert.Equal(0.5f, ema.Accumulator);
        Assert.Equal(new[] { 1f, -0.5f }, ema.Biased.data<float>().ToArray());
        Assert.Equal(new[] { 2f, -1f }, ema.Value.data<float>().ToArray());

        using var p1 = tensor(new float[] { 4, 3 });
        ema.Update(p1);
        // accum 0.25; biased = 0.5·(1, −0.5) + 0.5·(4, 3) = (2.5, 1.25); average = biased / 0.75
        Assert.Equal(0.25f, ema.Accumulator);
        AssertNear(new[] { 2.5 / 0.75, 1.25 / 0.75 }, ema.Value);

        using var p2 = tensor(new float[] { 0, 0 });
        ema.Update(p2);
        // accum 0.125; biased = (1.25, 0.625); average = biased / 0.875
        AssertNear(new[] { 1.25 / 0.875, 0.625 / 0.875 }, ema.Value);
        Assert.Equal(3, ema.Updates);
    }

    [Fact]
    public void DecayPointNineNineAfterManySteps()
    {
        // constant parameter c: the bias-corrected average is exactly c at every step (an uncorrected one would not be)
        using var c = full(new long[] { 3 }, 1.7f);
        using var ema = new LatentEma(c, BigSleepDefaults.EmaDecay);
        for (int i = 0; i < 20; i++) ema.Update(c);
        AssertNear(new[] { 1.7, 1.7, 1.7 }, ema.Value, 1e-5);
        Assert.Equal(Math.Pow(0.99, 21), ema.Accumulator, 5);
        // biased = c · (1 − 0.99^21)
        AssertNear(Enumerable.Repeat(1.7 * (1 - Math.Pow(0.99, 21)), 3).ToArray(), ema.Biased, 1e-5);
    }

    [Fact]
    public void RestoredFromStateContinuesTheSame()
    {
        using var p0 = tensor(new float[] { 1, 2 });
        using var p1 = tensor(new float[] { 3, -2 });
        using var a = new LatentEma(p0, 0.9);
        a.Update(p1);
        using var b = LatentEma.FromState(a.Biased, a.Accumulator, a.Decay, a.Updates);
        AssertNear(a.Value.data<float>().Select(v => (double)v).ToArray(), b.Value, 0);
        a.Update(p0);
        b.Update(p0);
        AssertNear(a.Value.data<float>().Select(v => (double)v).ToArray(), b.Value, 0);
    }

    [Fact]
    public void TheAverageDoesNotFollowTheParameterInPlace()
    {
        using var p = tensor(new float[] { 1, 1 });
        using var ema = new LatentEma(p, 0.5);
        p.mul_(10);
        AssertNear(new[] { 1.0, 1.0 }, ema.Value);
        Assert.False(ema.Value.requires_grad);
    }

    private static void AssertNear(double[] expected, Tensor actual, double tol = 1e-6)
    {
        var a = actual.data<float>().ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= tol, $"entry {i}: {a[i]} vs {expected[i]}");
    }
}
