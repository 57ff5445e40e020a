using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Runtime;

/// <summary>
/// A workaround for a libtorch CPU defect, written by hand because no package fixes it: with more than one torch
/// thread, the backward pass of a convolution with fewer than 16 output channels is racy in the native library
/// TorchSharp-cpu 0.107 ships. Measured on this project's 2-core machine, 3x3 convolutions 8->8, 16->8, 3->8 and 4->4
/// (batch 32, 32x32): the input gradient differed between identical calls 40-99 times in 100, by up to 27% of its
/// largest value, and was NaN 1-5 times in 100; 8->16, 16->16 and 32->32 were exact every time. Tiny ResNet CLIPs
/// (a stem width of 16 has 8-channel convolutions) hit it; published ones (RN50's narrowest has 32) do not.
/// <para>The remedy computes such a convolution with its filters padded by zero filters to 16 and keeps the real
/// output channels: the same numbers forward (the extra channels are separate dot products), a deterministic
/// backward, about the same cost. Parameters and their names are untouched, so state dicts load as before.</para>
/// </summary>
public static class NarrowConvolution
{
    /// <summary>Output channels from which the native backward was exact in every measurement.</summary>
    public const int SafeOutputChannels = 16;

    /// <summary><paramref name="conv"/>.forward(<paramref name="x"/>), with the workaround when it has fewer than 16 filters.</summary>
    /// <param name="stride">The convolution's stride (as constructed).</param>
    /// <param name="padding">The convolution's zero padding (as constructed).</param>
    public static Tensor Forward(Conv2d conv, Tensor x, long stride = 1, long padding = 0)
    {
        var weight = conv.weight!;
        long filters = weight.shape[0];
        if (filters >= SafeOutputChannels) return conv.forward(x);
        using var scope = NewDisposeScope();
        var extra = zeros(new[] { SafeOutputChannels - filters, weight.shape[1], weight.shape[2], weight.shape[3] }, weight.dtype, weight.device);
        var bias = conv.bias is { } b ? cat([b, zeros(SafeOutputChannels - filters, b.dtype, b.device)], 0) : null;
        var y = F.conv2d(x, cat([weight, extra], 0), bias, strides: [stride, stride], padding: [padding, padding]);
        return y.narrow(1, 0, filters).MoveToOuterDisposeScope();
    }
}
