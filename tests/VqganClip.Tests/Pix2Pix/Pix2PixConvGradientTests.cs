using VqganClip.Models.Pix2Pix;
using static TorchSharp.torch;

namespace VqganClip.Tests.Pix2Pix;

/// <summary>The narrow (fewer than 16 output channels) convolutions of pix2pix give float32 input gradients that agree with float64, call after call.</summary>
public class Pix2PixConvGradientTests
{
    [Theory]
    [InlineData(false, 8, 3)]
    [InlineData(false, 8, 1)]
    [InlineData(true, 16, 3)]
    [InlineData(true, 32, 8)]
    public void InputGradient_matches_float64(bool transposed, int inputs, int outputs)
    {
        manual_seed(7);
        nn.Module<Tensor, Tensor> layer = transposed
            ? new Pix2PixConvTranspose2d(inputs, outputs, 4, 2, 1, hasBias: true)
            : new Pix2PixConv2d(inputs, outputs, 4, 2, 1, hasBias: true);
        Pix2PixInit.InitWeights(layer, 0.2);
        var x = randn(4, inputs, 16, 16);
        var upstream = randn(transposed ? new long[] { 4, outputs, 32, 32 } : new long[] { 4, outputs, 8, 8 });

        var weight = layer.named_parameters().Single(p => p.name == "weight").parameter.detach().to(ScalarType.Float64);
        var bias = layer.named_parameters().Single(p => p.name == "bias").parameter.detach().to(ScalarType.Float64);
        var x64 = x.to(ScalarType.Float64).requires_grad_(true);
        var y64 = transposed
            ? nn.functional.conv_transpose2d(x64, weight, bias, strides: [2, 2], padding: [1, 1])
            : nn.functional.conv2d(x64, weight, bias, strides: [2, 2], padding: [1, 1]);
        (y64 * upstream.to(ScalarType.Float64)).sum().backward();
        var expected = x64.grad!.to(ScalarType.Float32);

        for (int call = 0; call < 20; call++)
        {
            var x32 = x.clone().requires_grad_(true);
            (layer.forward(x32) * upstream).sum().backward();
            var diff = (x32.grad! - expected).abs().max().item<float>();
            Assert.True(diff < 1e-4 * (1 + expected.abs().max().item<float>()), $"call {call}: input gradient off by {diff}");
        }
    }
}
