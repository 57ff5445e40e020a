using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Runtime;

/// <summary>
/// A workaround for a libtorch CPU defect, written by hand because no package fixes it. The oneDNN path of the native
/// library TorchSharp-cpu 0.107 ships stores channels in blocks of 16; when a float32 convolution's channel count is
/// not a multiple of 16 the block is padded, and the padding is read as if it were zero while it holds whatever the
/// allocator's memory held before. The results then depend on earlier allocations: right in a fresh process, wrong or
/// NaN later in the same one.
/// <list type="bullet">
/// <item>Measured on an AVX-512 AMD EPYC (4 December 2026), groups 1, against float64, with the allocator's freed
/// blocks first filled with NaN or 1e30: every 3x3 or 4x4 convolution whose output channels are not a multiple of
/// 16 (3, 8, 12, 17, 24, 40) had a wrong input gradient; every one with more than 16 input channels that are not
/// a multiple of 16 (17, 24, 40) also had a wrong output and weight gradient; transposed convolutions with 17, 24
/// or 40 output channels were wrong. So were strided convolutions with an odd number of 16-channel input blocks (48,
/// 112, 144; 96 and 160 were right) and transposed ones with that many output blocks: the AVX-512 kernels work on
/// pairs of blocks there. Input channels under 16 with 16k outputs, 1x1 kernels at stride 1, grouped and depthwise
/// convolutions were right. Earlier sessions saw the output-channel case as NaN gradients through the VQGAN's
/// 128 -> 3 <c>conv_out</c> and as gradients that changed between identical calls.</item>
/// <item>Turning oneDNN off (the native im2col path) fixes all of it but made 3x3 convolutions 3-11x slower.</item>
/// </list>
/// The remedy, for a groups-1 CPU float32 convolution: zero-pad the filters to a multiple of 16 and drop the extra
/// output channels, and zero-pad input channels above 16 to a multiple of 16, of 32 when strided (the input with zero
/// channels, the weight with zero slices); a transposed convolution's outputs go to 16, or above 16 to a multiple of 32. Each output channel is the same dot product, so the function and its gradients are
/// unchanged; only oneDNN's padded blocks are avoided. Output channels are padded only with autograd on (the forward
/// values were right without it and the extra filters would cost inference time); input channels always. Parameters
/// and state dicts are untouched. Every groups-1 convolution of the toolkit's networks goes through here.
/// </summary>
public static class NarrowConvolution
{
    /// <summary>oneDNN's channel block on AVX-512: channel counts that are multiples of it take no padded blocks.</summary>
    public const long SafeOutputChannels = 16;

    private static long RoundUp(long channels, long block) => (channels + block - 1) / block * block;

    private static bool Applies(Tensor x, long groups) => groups == 1 && x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;

    /// <summary>Output channels a convolution should use: a multiple of 16 when a gradient may be taken.</summary>
    private static long SafeFilters(long filters) =>
        filters % SafeOutputChannels == 0 || !is_grad_enabled() ? filters : RoundUp(filters, SafeOutputChannels);

    /// <summary>
    /// Input channels a convolution should use: up to 16 as they are; above, a multiple of 16, and of 32 when it is
    /// strided (an odd number of 16-channel blocks, 48 or 112, was wrong there).
    /// </summary>
    private static long SafeInputs(long inputs, bool strided) =>
        inputs <= SafeOutputChannels ? inputs : RoundUp(inputs, strided ? 2 * SafeOutputChannels : SafeOutputChannels);

    /// <summary>Output channels a transposed convolution should use: 16 up to 16, above that a multiple of 32.</summary>
    private static long SafeTransposedFilters(long filters) =>
        filters <= SafeOutputChannels ? SafeOutputChannels : RoundUp(filters, 2 * SafeOutputChannels);

    /// <summary><paramref name="conv"/>.forward(<paramref name="x"/>), computed on safe channel counts.</summary>
    public static Tensor Forward(Conv2d conv, Tensor x)
    {
        if (conv.padding_type is not null || conv.padding is null || conv.padding_mode != PaddingModes.Zeros)
            return conv.forward(x);
        return Forward(x, conv.weight!, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups);
    }

    /// <summary>
    /// F.conv2d(<paramref name="x"/>, <paramref name="weight"/>, <paramref name="bias"/>, stride 1, zero padding
    /// <paramref name="padding"/>) on safe channel counts, for layers that compute their weight (spectral norm).
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, long padding) =>
        Forward(x, weight, bias, [1, 1], [padding, padding], [1, 1], 1);

    /// <summary>
    /// F.conv2d with any geometry (<paramref name="stride"/>, zero <paramref name="padding"/> as [h, w],
    /// <paramref name="dilation"/>, <paramref name="groups"/>) on safe channel counts when groups is 1.
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups)
    {
        long filters = weight.shape[0], inputs = weight.shape[1];
        long safeFilters = SafeFilters(filters), safeInputs = SafeInputs(inputs, stride.Any(s => s > 1));
        if (!Applies(x, groups) || (safeFilters == filters && safeInputs == inputs))
            return F.conv2d(x, weight, bias, strides: stride, padding: padding, dilation: dilation, groups: groups);

        using var scope = NewDisposeScope();
        // F.pad lists the last dimension first: weight [out, in, kh, kw], input [n, in, h, w].
        var paddedWeight = F.pad(weight, [0, 0, 0, 0, 0, safeInputs - inputs, 0, safeFilters - filters]);
        var paddedBias = bias is null || safeFilters == filters ? bias : F.pad(bias, [0, safeFilters - filters]);
        var paddedInput = safeInputs == inputs ? x : F.pad(x, [0, 0, 0, 0, 0, safeInputs - inputs]);
        var output = F.conv2d(paddedInput, paddedWeight, paddedBias, strides: stride, padding: padding, dilation: dilation);
        return (safeFilters == filters ? output : output.narrow(1, 0, filters).contiguous()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// F.conv2d with <paramref name="groups"/> groups (no bias) as one groups-1 convolution per group, each through
    /// <see cref="Forward(Tensor, Tensor, Tensor?, long[], long[], long[], long)"/>, concatenated: the same function. On
    /// an AVX2 CPU (AMD EPYC without AVX-512, 7 December 2026) libtorch's float32 grouped convolution gave
    /// stylegan2-tiny's gradient with respect to W+ (its modulated convolution, groups = batch) 1.5% off upstream's,
    /// while float64 and this matched to 1e-4; the same grouped shapes alone were right.
    /// </summary>
    public static Tensor ForwardPerGroup(Tensor x, Tensor weight, long[] stride, long[] padding, long[] dilation, long groups)
    {
        long inputs = x.shape[1] / groups, filters = weight.shape[0] / groups;
        using var scope = NewDisposeScope();
        var parts = Enumerable.Range(0, (int)groups)
            .Select(g => Forward(x.narrow(1, g * inputs, inputs), weight.narrow(0, g * filters, filters), null, stride, padding, dilation, 1))
            .ToArray();
        return cat(parts, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// F.conv_transpose2d(<paramref name="x"/>, <paramref name="weight"/> [in, out / groups, kh, kw], ...) with its output
    /// channels padded to 16, or above 16 to a multiple of 32, when groups is 1 (the forward was wrong too, so always).
    /// </summary>
    public static Tensor Transposed(Tensor x, Tensor weight, Tensor? bias, long[] stride, long[] padding, long groups = 1)
    {
        long filters = weight.shape[1];
        long extra = SafeTransposedFilters(filters) - filters;
        if (!Applies(x, groups) || extra == 0)
            return F.conv_transpose2d(x, weight, bias, strides: stride, padding: padding, groups: groups);

        using var scope = NewDisposeScope();
        var paddedWeight = F.pad(weight, [0, 0, 0, 0, 0, extra]);
        var paddedBias = bias is null ? null : F.pad(bias, [0, extra]);
        var output = F.conv_transpose2d(x, paddedWeight, paddedBias, strides: stride, padding: padding);
        return output.narrow(1, 0, filters).contiguous().MoveToOuterDisposeScope();
    }
}
