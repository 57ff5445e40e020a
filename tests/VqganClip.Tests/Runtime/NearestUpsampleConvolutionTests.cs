using TorchSharp;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Tests.Runtime;

/// <summary>
/// The folded upsampling convolution against the direct one (nearest x2, then a 3x3 conv with padding 1): values,
/// the gradient with respect to the input, and the gradient with respect to the weight and bias.
/// </summary>
public class NearestUpsampleConvolutionTests
{
    private static Tensor Direct(Tensor x, Tensor weight, Tensor? bias) =>
        F.conv2d(F.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest), weight, bias, padding: [1, 1]);

    private static double MaxRelative(Tensor actual, Tensor expected) =>
        (actual - expected).abs().max().item<float>() / Math.Max(1e-12, expected.abs().max().item<float>());

    [Theory]
    [InlineData(1, 4, 4, 16, 16, true)]     // narrow: 4 filters take the direct path
    [InlineData(1, 32, 32, 5, 7, true)]     // under 16x16 pixels: the direct path
    [InlineData(2, 16, 24, 16, 16, true)]   // the folded path; more output than input channels
    [InlineData(1, 32, 16, 13, 23, false)]  // the folded path with odd, non-square sizes; no bias
    [InlineData(1, 128, 128, 32, 32, true)] // a decoder's widths
    public void Equals_nearest_upsampling_then_the_3x3_convolution(int n, int cIn, int cOut, int h, int w, bool withBias)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var x = randn(new long[] { n, cIn, h, w }, generator: g);
        var weight = randn(new long[] { cOut, cIn, 3, 3 }, generator: g) * 0.1;
        var bias = withBias ? randn(new long[] { cOut }, generator: g) : null;

        var folded = NearestUpsampleConvolution.Forward(x, weight, bias);
        var direct = Direct(x, weight, bias);
        Assert.Equal(direct.shape, folded.shape);
        Assert.True(MaxRelative(folded, direct) < 1e-5, $"values differ by {MaxRelative(folded, direct):E2} of the largest");
        // Not the upsampled input passed through unchanged: every phase is a different combination of the taps.
        Assert.True(MaxRelative(folded, Direct(x, weight.flip(2), bias)) > 1e-2, "a flipped kernel must give another result");
    }

    /// <summary>
    /// Gradients against the direct computation in float64: on an AMD EPYC (AVX2) machine libtorch's float32 input
    /// gradient of a direct 16 -> 24 convolution was itself off by 13-16% (NarrowConvolution covers only fewer than 16
    /// filters), so float32 is no reference; 32 output channels were exact there.
    /// </summary>
    [Fact]
    public void Gives_the_gradients_of_the_direct_computation_in_float64()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        var x0 = randn(new long[] { 2, 16, 16, 19 }, generator: g);
        var w0 = randn(new long[] { 32, 16, 3, 3 }, generator: g) * 0.1;
        var b0 = randn(new long[] { 32 }, generator: g);
        var target = randn(new long[] { 2, 32, 32, 38 }, generator: g);

        Tensor[] Gradients(Func<Tensor, Tensor, Tensor, Tensor> f, ScalarType type)
        {
            var x = x0.to(type).requires_grad_(true);
            var w = w0.to(type).requires_grad_(true);
            var b = b0.to(type).requires_grad_(true);
            var loss = (f(x, w, b) - target.to(type)).square().sum();
            return autograd.grad([loss], [x, w, b]).Select(t => t.to(ScalarType.Float32)).ToArray();
        }

        var folded = Gradients(NearestUpsampleConvolution.Forward, ScalarType.Float32);
        var direct = Gradients(Direct, ScalarType.Float64);
        string[] names = { "input", "weight", "bias" };
        for (int i = 0; i < 3; i++)
            Assert.True(MaxRelative(folded[i], direct[i]) < 1e-5,
                $"the {names[i]} gradient differs by {MaxRelative(folded[i], direct[i]):E2} of the largest");
    }

    [Fact]
    public void Refuses_a_kernel_that_is_not_3x3_and_mismatched_channels()
    {
        using var x = zeros(1, 4, 5, 5);
        var kernel = Assert.Throws<ArgumentException>(() => NearestUpsampleConvolution.Forward(x, zeros(8, 4, 5, 5), null));
        Assert.Contains("(C_out, C_in, 3, 3)", kernel.Message);
        var channels = Assert.Throws<ArgumentException>(() => NearestUpsampleConvolution.Forward(x, zeros(8, 6, 3, 3), null));
        Assert.Contains("6 input channels", channels.Message);
    }
}
