using TorchSharp;
using VqganClip.Guidance.Autograd;
using VqganClip.Guidance.Generators;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

public class GradientTrickTests
{
    [Fact]
    public void ReplaceGradKeepsTheForwardBitsAndRoutesTheGradient()
    {
        using var f = tensor(new float[] { 0.1f, 0.7f, 1e-8f, 123.456f });
        using var b = tensor(new float[] { 3f, -2f, 5f, 0.3f }).requires_grad_(true);
        using var y = GradientTricks.ReplaceGrad(f, b);
        Assert.Equal(f.data<float>().ToArray(), y.data<float>().ToArray());
        (y * tensor(new float[] { 1, 2, 3, 4 })).sum().backward();
        Assert.Equal(new float[] { 1, 2, 3, 4 }, b.grad!.data<float>().ToArray());
    }

    [Theory]
    [InlineData(1f, new float[] { 0, 1, 1 })]    // pushing up: stuck-low (-0.5) gets nothing, too-high (1.5) may come down
    [InlineData(-1f, new float[] { -1, -1, 0 })] // pushing down: too-low may come up, stuck-high gets nothing
    public void ClampWithGradLetsGradientsThatMoveBackIntoRangeThrough(float sign, float[] expected)
    {
        using var x = tensor(new float[] { -0.5f, 0.5f, 1.5f }).requires_grad_(true);
        using var y = GradientTricks.ClampWithGrad(x, 0, 1);
        Assert.Equal(new float[] { 0, 0.5f, 1 }, y.data<float>().ToArray());
        (y * sign).sum().backward();
        Assert.Equal(expected, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void VectorQuantizeSnapsToCodebookRowsExactlyWithStraightThroughGradient()
    {
        using var codebook = tensor(new float[] { 0, 0, 1, 1, -1, 2 }, new long[] { 3, 2 });
        using var x = tensor(new float[] { 0.9f, 1.2f, -0.8f, 1.7f, 0.1f, -0.1f }, new long[] { 3, 2 }).requires_grad_(true);
        using var q = CodebookSnap.Snap(x, codebook);
        Assert.Equal(new float[] { 1, 1, -1, 2, 0, 0 }, q.data<float>().ToArray());
        (q * tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 3, 2 })).sum().backward();
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, x.grad!.data<float>().ToArray());
    }
}
