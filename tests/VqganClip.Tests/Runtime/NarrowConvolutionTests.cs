using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Tests.Runtime;

/// <summary>
/// With several torch threads the native backward of a convolution with fewer than 16 filters is racy (see
/// <see cref="NarrowConvolution"/>): without the workaround these checks fail in most runs on a multi-core machine.
/// </summary>
[Collection("Training")]
public class NarrowConvolutionTests
{
    private static T WithThreads<T>(int threads, Func<T> body)
    {
        int before = TorchRuntime.Threads;
        TorchRuntime.SetThreads(threads);
        try { return body(); }
        finally { TorchRuntime.SetThreads(before); }
    }

    private static Tensor InputGradient(Func<Tensor, Tensor> f, Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = x.detach().requires_grad_(true);
        return autograd.grad([f(input).square().sum()], [input])[0].detach().MoveToOuterDisposeScope();
    }

    [Fact]
    public void An_8_filter_convolution_gives_the_native_forward_and_the_same_gradient_every_time() => WithThreads(2, () =>
    {
        using var conv = nn.Conv2d(8, 8, 3, padding: 1, bias: true);
        foreach (var p in conv.parameters()) p.requires_grad = false;
        using var x = randn(new long[] { 32, 8, 32, 32 }, generator: new Generator(3));
        // With autograd on (the workaround is skipped without it: no gradient, nothing to go wrong).
        using (var native = conv.forward(x))
        using (var narrow = NarrowConvolution.Forward(conv, x))
            Assert.True(native.equal(narrow).all().item<bool>(), "the padded filters must not change the output");

        using var first = InputGradient(t => NarrowConvolution.Forward(conv, t), x);
        Assert.True(first.isfinite().all().item<bool>());
        for (int i = 0; i < 20; i++)
        {
            using var again = InputGradient(t => NarrowConvolution.Forward(conv, t), x);
            Assert.True(again.equal(first).all().item<bool>(), $"repeat {i}: the input gradient changed between identical calls");
        }
        return 0;
    });

    [Fact]
    public void A_tiny_ResNet_CLIPs_image_gradient_is_the_same_every_time() => WithThreads(2, () =>
    {
        // openai/CLIP's ModifiedResNet at stem width 8: an 8-filter stem, the narrow convolution under test.
        var config = new ClipConfig
        {
            EmbedDim = 32, ImageResolution = 64, VisionResNetLayers = [1, 1, 1, 1], VisionWidth = 8, VisionHeads = 4,
            ContextLength = 16, VocabSize = 49408, TransformerWidth = 64, TransformerHeads = 1, TransformerLayers = 1,
        };
        using var clip = new ClipModel(config);
        using var x = rand(new long[] { 16, 3, 64, 64 }, generator: new Generator(5));
        using var first = InputGradient(t => clip.EncodeImage(t), x);
        for (int i = 0; i < 10; i++)
        {
            using var again = InputGradient(t => clip.EncodeImage(t), x);
            Assert.True(again.equal(first).all().item<bool>(), $"repeat {i}: the image gradient changed between identical calls");
        }
        return 0;
    });
}
