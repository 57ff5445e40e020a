using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>taming's small helpers from taming/modules/diffusionmodules/model.py.</summary>
internal static class VqganLayers
{
    public const int GroupNormGroups = 32;

    /// <summary>taming's <c>Normalize</c>: GroupNorm(32 groups, eps 1e-6, affine).</summary>
    public static GroupNorm Normalize(long channels) => nn.GroupNorm(GroupNormGroups, channels, eps: 1e-6, affine: true);

    /// <summary>taming's <c>nonlinearity</c>: swish, x * sigmoid(x) (written out, as the reference does, rather than silu).</summary>
    public static Tensor Swish(Tensor x)
    {
        using var gate = torch.sigmoid(x);
        return x * gate;
    }

    /// <summary>Disposes <paramref name="previous"/> and returns <paramref name="next"/>: a forward pass that drops activations as it goes.</summary>
    public static Tensor Replace(Tensor previous, Tensor next)
    {
        previous.Dispose();
        return next;
    }

    public static Conv2d Conv3x3(long inChannels, long outChannels, long stride = 1, long padding = 1) =>
        nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: padding);

    public static Conv2d Conv1x1(long inChannels, long outChannels) =>
        nn.Conv2d(inChannels, outChannels, kernel_size: 1);
}
