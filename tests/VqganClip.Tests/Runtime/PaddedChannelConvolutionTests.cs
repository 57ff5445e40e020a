using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Tests.Runtime;

/// <summary>
/// <see cref="NarrowConvolution"/> against float64 on channel counts that oneDNN stores in padded 16-channel blocks,
/// with the allocator's freed memory first filled with NaN: a kernel that reads its padding as zero then returns NaN
/// instead of passing by luck on fresh pages. On the AVX-512 machine this was written on, plain F.conv2d and
/// F.conv_transpose2d fail most of these cases (output, input gradient or weight gradient).
/// </summary>
[Collection("Training")]
public class PaddedChannelConvolutionTests
{
    private static readonly long[] Channels = [3, 12, 16, 17, 24, 40, 48, 64];

    /// <summary>Frees a few hundred small NaN-filled blocks, so the next allocations reuse memory that holds NaN.</summary>
    private static void PoisonFreedMemory()
    {
        var blocks = new List<Tensor>();
        for (int i = 1; i < 300; i++) blocks.Add(full(new long[] { i * 61 }, float.NaN));
        foreach (var b in blocks) b.Dispose();
    }

    /// <summary>The output and the input and weight gradients of <paramref name="conv"/> in <paramref name="dtype"/>, as float64.</summary>
    private static Tensor[] OutputAndGradients(Func<Tensor, Tensor, Tensor> conv, Tensor x64, Tensor w64, ScalarType dtype)
    {
        var x = x64.to(dtype).requires_grad_(true);
        var w = w64.to(dtype).requires_grad_(true);
        var y = conv(x, w);
        // A fixed, non-uniform upstream gradient, so every output element's gradient path is exercised.
        var upstream = y.detach().to(float64).cos().to(dtype);
        var grads = autograd.grad([(y * upstream).sum()], [x, w]);
        return [y.to(float64), grads[0].to(float64), grads[1].to(float64)];
    }

    private static void AssertMatchesFloat64(string what, Func<Tensor, Tensor, Tensor> conv, Tensor x64, Tensor w64)
    {
        PoisonFreedMemory();
        var single = OutputAndGradients(conv, x64, w64, float32);
        var reference = OutputAndGradients(conv, x64, w64, float64);
        string[] names = ["output", "input gradient", "weight gradient"];
        for (int i = 0; i < 3; i++)
        {
            double error = (single[i] - reference[i]).abs().max().item<double>() / reference[i].abs().max().item<double>();
            Assert.True(error < 1e-4, $"{what}: {names[i]} off by {error:G3} of its largest value against float64");
        }
    }

    [Fact]
    public void Convolutions_match_float64_on_every_channel_count()
    {
        foreach (long inputs in Channels)
        foreach (long outputs in Channels)
        foreach (var (kernel, stride) in new (long, long)[] { (3, 1), (3, 2), (4, 2) })
        {
            using var scope = NewDisposeScope();
            var generator = new Generator((ulong)(inputs * 100 + outputs));
            var x = randn(new long[] { 4, inputs, 8, 8 }, dtype: float64, generator: generator);
            var w = randn(new long[] { outputs, inputs, kernel, kernel }, dtype: float64, generator: generator);
            AssertMatchesFloat64($"conv {inputs}->{outputs} k{kernel} s{stride}",
                (xi, wi) => NarrowConvolution.Forward(xi, wi, null, [stride, stride], [kernel / 2, kernel / 2], [1, 1], 1), x, w);
        }
    }

    [Fact]
    public void Transposed_convolutions_match_float64_on_every_channel_count()
    {
        foreach (long inputs in Channels)
        foreach (long outputs in Channels)
        {
            using var scope = NewDisposeScope();
            var generator = new Generator((ulong)(inputs * 100 + outputs));
            var x = randn(new long[] { 4, inputs, 8, 8 }, dtype: float64, generator: generator);
            var w = randn(new long[] { inputs, outputs, 4, 4 }, dtype: float64, generator: generator);
            AssertMatchesFloat64($"conv_transpose {inputs}->{outputs} k4 s2",
                (xi, wi) => NarrowConvolution.Transposed(xi, wi, null, [2, 2], [1, 1]), x, w);
        }
    }

    [Fact]
    public void Without_autograd_the_output_channels_are_not_padded_and_the_values_agree()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 24, 8, 8);
        var w = randn(24, 24, 3, 3);
        var b = randn(24);
        Tensor withGrad, without;
        withGrad = NarrowConvolution.Forward(x, w, b, 1);
        using (no_grad()) without = NarrowConvolution.Forward(x, w, b, 1);
        Assert.Equal(new long[] { 2, 24, 8, 8 }, without.shape);
        Assert.True(withGrad.allclose(without, rtol: 1e-5, atol: 1e-5));
        using var f64 = F.conv2d(x.to(float64), w.to(float64), b.to(float64), padding: new long[] { 1, 1 });
        Assert.True(without.to(float64).allclose(f64, rtol: 1e-4, atol: 1e-4));
    }
}
