using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Runtime;

/// <summary>
/// A workaround for a libtorch CPU defect, written by hand because no package fixes it: the input gradient of a
/// float32 convolution whose output channels are not a multiple of 16 (on every CPU measured: fewer than 16) is
/// unreliable in the native library TorchSharp-cpu 0.107 ships (its oneDNN path), while multiples of 16 are exact.
/// <list type="bullet">
/// <item>Seen on AVX-512 CPUs: wrong, often NaN, gradients through the VQGAN's 128 -> 3 <c>conv_out</c> (3x3 at
/// 16x16 and up).</item>
/// <item>Measured on this project's 2-core machine with two torch threads, 3x3 convolutions 8->8, 16->8, 3->8 and
/// 4->4 (batch 32, 32x32): the gradient differed between identical calls 40-99 times in 100, by up to 27% of its
/// largest value, and was NaN 1-5 times in 100; 8->16, 16->16 and 32->32 were exact every time. Tiny ResNet CLIPs
/// (a stem width of 16 has 8-channel convolutions) hit it; published ones (RN50's narrowest has 32) do not.</item>
/// <item>Measured on an AMD EPYC (AVX2, no AVX-512) machine of this project, 4 December 2026, 3x3 convolutions on
/// 2 x C x 32 x 38 against the float64 gradient: 16->24 off by 16%, 24->24 NaN, 64->3 off by 45%; 16->16, 16->32,
/// 32->32 and 128->128 exact (3e-7). So on that CPU the defect is any filter count that is not a multiple of 16.
/// Input channels matter there too: 24 -> 32 was off by 14% and 24 -> 24 even with its filters padded, while 3 and 8 input
/// channels were exact.</item>
/// </list>
/// The remedy: with autograd on a CPU float32 tensor, such a convolution runs with its filters zero-padded to the next
/// multiple of 16 (and input channels above 16 that are not a multiple of 16 padded the same way, with zero weights)
/// and the extra output channels dropped. The forward values are the same (each output channel is its own dot
/// product), the gradient takes the correct path, the cost is about the same; parameters and state dicts are
/// untouched. (Turning oneDNN off fixes it too, but makes every convolution 2-4x slower.) Used by the VQGAN's
/// encoder, decoder and quant convolutions, by the ModifiedResNet's stem and Bottlenecks, by BigGAN's spectral-norm
/// convolutions and by ONNX graphs' Conv nodes (OnnxNetwork; the ResNet18's narrowest has 64 filters).
/// </summary>
internal static class NarrowConvolution
{
    /// <summary>Output channels whose multiples were exact in every measurement (16, 32, 128; not 3, 8 or 24).</summary>
    public const long SafeOutputChannels = 16;

    /// <summary>The filter count rounded up to a multiple of <see cref="SafeOutputChannels"/> (4 → 16, 24 → 32, 32 → 32).</summary>
    public static long PaddedFilters(long filters) => (filters + SafeOutputChannels - 1) / SafeOutputChannels * SafeOutputChannels;

    /// <summary>
    /// Whether a convolution of <paramref name="x"/> with <paramref name="weight"/> takes the broken native backward:
    /// autograd on, CPU float32, and filters not a multiple of 16 or more than 16 input channels that are not a
    /// multiple of 16 (24 -> 32 was off by 14% on the AMD machine; 3 and 8 input channels were exact).
    /// </summary>
    private static bool Broken(Tensor x, Tensor weight) =>
        (weight.shape[0] % SafeOutputChannels != 0 || PadsInput(weight.shape[1]))
        && is_grad_enabled() && x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;

    internal static bool PadsInput(long inChannels) => inChannels > SafeOutputChannels && inChannels % SafeOutputChannels != 0;

    /// <summary>
    /// <paramref name="convolve"/>(x, weight, bias) with the filters zero-padded to a multiple of 16 (the extra
    /// outputs dropped) and, where needed, the input channels too (zero channels of x against zero weights: the sum is
    /// unchanged and their gradient is dropped with them).
    /// </summary>
    private static Tensor Padded(Tensor x, Tensor weight, Tensor? bias, Func<Tensor, Tensor, Tensor?, Tensor> convolve)
    {
        using var scope = NewDisposeScope();
        long filters = weight.shape[0], inChannels = weight.shape[1];
        long extraOut = PaddedFilters(filters) - filters;
        long extraIn = PadsInput(inChannels) ? PaddedFilters(inChannels) - inChannels : 0;
        var paddedWeight = F.pad(weight, new long[] { 0, 0, 0, 0, 0, extraIn, 0, extraOut });
        var paddedBias = bias is null ? null : F.pad(bias, new long[] { 0, extraOut });
        var input = extraIn == 0 ? x : F.pad(x, new long[] { 0, 0, 0, 0, 0, extraIn });
        var output = convolve(input, paddedWeight, paddedBias);
        return output.narrow(1, 0, filters).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="conv"/>.forward(<paramref name="x"/>), computed with padded filters when its gradient would take the broken path.</summary>
    public static Tensor Forward(Conv2d conv, Tensor x)
    {
        var weight = conv.weight!;
        if (!Broken(x, weight) || conv.groups != 1 || conv.padding_type is not null || conv.padding_mode != PaddingModes.Zeros)
            return conv.forward(x);
        // The convolution's own geometry (stride, padding, dilation), so the padded one computes the same thing.
        return Padded(x, weight, conv.bias, (input, w, b) => F.conv2d(input, w, b, strides: conv.stride, padding: conv.padding, dilation: conv.dilation));
    }

    /// <summary>
    /// F.conv2d(<paramref name="x"/>, <paramref name="weight"/>, <paramref name="bias"/>, stride 1, zero padding
    /// <paramref name="padding"/>) with the same remedy, for layers that compute their weight (spectral norm).
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, long padding)
    {
        if (!Broken(x, weight)) return F.conv2d(x, weight, bias, padding: new[] { padding, padding });
        return Padded(x, weight, bias, (input, w, b) => F.conv2d(input, w, b, padding: new[] { padding, padding }));
    }

    /// <summary>
    /// F.conv2d with any geometry (<paramref name="stride"/>, zero <paramref name="padding"/> as [h, w],
    /// <paramref name="dilation"/>, <paramref name="groups"/>) and the same remedy when groups is 1 (ONNX Conv nodes).
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups)
    {
        if (!Broken(x, weight) || groups != 1)
            return F.conv2d(x, weight, bias, strides: stride, padding: padding, dilation: dilation, groups: groups);
        return Padded(x, weight, bias, (input, w, b) => F.conv2d(input, w, b, strides: stride, padding: padding, dilation: dilation));
    }
}
