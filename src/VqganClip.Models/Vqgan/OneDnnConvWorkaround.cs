using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// Works around a oneDNN (mkldnn) defect in the libtorch-cpu that TorchSharp 0.107 ships: the gradient with
/// respect to the input of a float32 convolution with fewer than 16 output channels comes back wrong, often
/// NaN (seen on AVX-512 CPUs; e.g. 128 -> 3 channels 3x3 at 16x16 and up, while 16 or more output channels
/// are exact). The VQGAN decoder ends in such a conv (conv_out, to 3 RGB channels), so every CLIP-guided
/// gradient to the latent went through it. With autograd on a CPU tensor, such a conv runs here with its
/// weight zero-padded to 16 output channels and the extra channels dropped: the same values, and the
/// gradient takes the correct oneDNN path. (Turning oneDNN off fixes it too, but makes every conv 2-4x slower.)
/// </summary>
internal static class OneDnnConvWorkaround
{
    /// <summary>Output channel count from which oneDNN's backward-data is correct.</summary>
    public const long SafeOutputChannels = 16;

    /// <summary>conv.forward(x), or the padded equivalent when the gradient would take the broken path. Stride-1 "same" convs only.</summary>
    public static Tensor Forward(Conv2d conv, Tensor x)
    {
        var weight = conv.weight!;
        long outChannels = weight.shape[0];
        if (outChannels >= SafeOutputChannels || !torch.is_grad_enabled() || x.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32)
            return conv.forward(x);

        long extra = SafeOutputChannels - outChannels;
        long padding = (weight.shape[2] - 1) / 2;
        using var paddedWeight = nn.functional.pad(weight, new long[] { 0, 0, 0, 0, 0, 0, 0, extra });
        using var paddedBias = conv.bias is null ? null : nn.functional.pad(conv.bias, new long[] { 0, extra });
        using var output = nn.functional.conv2d(x, paddedWeight, paddedBias, padding: new[] { padding, padding });
        return output.narrow(1, 0, outChannels).contiguous();
    }
}
