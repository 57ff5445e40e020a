using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Runtime;

/// <summary>
/// A workaround for a libtorch CPU defect, written by hand because no package fixes it: the input gradient of a
/// float32 convolution with fewer than 16 output channels is unreliable in the native library TorchSharp-cpu 0.107
/// ships (its oneDNN path), while 16 or more output channels are exact.
/// <list type="bullet">
/// <item>Seen on AVX-512 CPUs: wrong, often NaN, gradients through the VQGAN's 128 -> 3 <c>conv_out</c> (3x3 at
/// 16x16 and up).</item>
/// <item>Measured on this project's 2-core machine with two torch threads, 3x3 convolutions 8->8, 16->8, 3->8 and
/// 4->4 (batch 32, 32x32): the gradient differed between identical calls 40-99 times in 100, by up to 27% of its
/// largest value, and was NaN 1-5 times in 100; 8->16, 16->16 and 32->32 were exact every time. Tiny ResNet CLIPs
/// (a stem width of 16 has 8-channel convolutions) hit it; published ones (RN50's narrowest has 32) do not.</item>
/// </list>
/// The remedy: with autograd on a CPU float32 tensor, such a convolution runs with its filters zero-padded to 16 and
/// the extra output channels dropped. The forward values are the same (each output channel is its own dot
/// product), the gradient takes the correct path, the cost is about the same; parameters and state dicts are
/// untouched. (Turning oneDNN off fixes it too, but makes every convolution 2-4x slower.) Used by the VQGAN's
/// encoder, decoder and quant convolutions, by the ModifiedResNet's stem and Bottlenecks, by BigGAN's spectral-norm
/// convolutions and by ONNX graphs' Conv nodes (OnnxNetwork; the ResNet18's narrowest has 64 filters).
/// </summary>
internal static class NarrowConvolution
{
    /// <summary>Output channels from which the native backward was exact in every measurement.</summary>
    public const long SafeOutputChannels = 16;

    /// <summary><paramref name="conv"/>.forward(<paramref name="x"/>), computed with padded filters when its gradient would take the broken path.</summary>
    public static Tensor Forward(Conv2d conv, Tensor x)
    {
        var weight = conv.weight!;
        long filters = weight.shape[0];
        if (filters >= SafeOutputChannels || !is_grad_enabled() || x.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32
            || conv.groups != 1 || conv.padding_type is not null || conv.padding_mode != PaddingModes.Zeros)
            return conv.forward(x);

        using var scope = NewDisposeScope();
        long extra = SafeOutputChannels - filters;
        var paddedWeight = F.pad(weight, new long[] { 0, 0, 0, 0, 0, 0, 0, extra });
        var paddedBias = conv.bias is null ? null : F.pad(conv.bias, new long[] { 0, extra });
        // The convolution's own geometry (stride, padding, dilation), so the padded one computes the same thing.
        var output = F.conv2d(x, paddedWeight, paddedBias, strides: conv.stride, padding: conv.padding, dilation: conv.dilation);
        return output.narrow(1, 0, filters).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// F.conv2d(<paramref name="x"/>, <paramref name="weight"/>, <paramref name="bias"/>, stride 1, zero padding
    /// <paramref name="padding"/>) with the same remedy, for layers that compute their weight (spectral norm).
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, long padding)
    {
        long filters = weight.shape[0];
        if (filters >= SafeOutputChannels || !is_grad_enabled() || x.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32)
            return F.conv2d(x, weight, bias, padding: new[] { padding, padding });

        using var scope = NewDisposeScope();
        long extra = SafeOutputChannels - filters;
        var paddedWeight = F.pad(weight, new long[] { 0, 0, 0, 0, 0, 0, 0, extra });
        var paddedBias = bias is null ? null : F.pad(bias, new long[] { 0, extra });
        var output = F.conv2d(x, paddedWeight, paddedBias, padding: new[] { padding, padding });
        return output.narrow(1, 0, filters).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// F.conv2d with any geometry (<paramref name="stride"/>, zero <paramref name="padding"/> as [h, w],
    /// <paramref name="dilation"/>, <paramref name="groups"/>) and the same remedy when groups is 1 (ONNX Conv nodes).
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups)
    {
        long filters = weight.shape[0];
        if (filters >= SafeOutputChannels || groups != 1 || !is_grad_enabled() || x.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32)
            return F.conv2d(x, weight, bias, strides: stride, padding: padding, dilation: dilation, groups: groups);

        using var scope = NewDisposeScope();
        long extra = SafeOutputChannels - filters;
        var paddedWeight = F.pad(weight, new long[] { 0, 0, 0, 0, 0, 0, 0, extra });
        var paddedBias = bias is null ? null : F.pad(bias, new long[] { 0, extra });
        var output = F.conv2d(x, paddedWeight, paddedBias, strides: stride, padding: padding, dilation: dilation);
        return output.narrow(1, 0, filters).contiguous().MoveToOuterDisposeScope();
    }
}
