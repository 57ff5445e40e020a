using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>taming's small helpers from taming/modules/diffusionmodules/model.py.</summary>
internal static class VqganLayers
{
    public const int GroupNormGroups = 32;

    /// <summary>taming's <c>Normalize</c>: GroupNorm(32 groups, eps 1e-6, affine), weight 1 and bias 0 as torch initialises it.</summary>
    public static GroupNorm Normalize(long channels)
    {
        var norm = nn.GroupNorm(GroupNormGroups, channels, eps: 1e-6, affine: true);
        // TorchSharp 0.107's GroupNorm leaves its affine parameters uninitialised (arbitrary memory): set torch's defaults.
        using (no_grad())
        {
            norm.weight!.fill_(1.0);
            norm.bias!.zero_();
        }
        return norm;
    }

    /// <summary>
    /// taming's <c>nonlinearity</c>: swish, x * sigmoid(x). The reference writes it out; torch's fused <c>silu</c> is the
    /// same function (equal to within rounding) in one pass instead of two, and autograd keeps only x for the backward
    /// instead of x and sigmoid(x): one activation less per swish while a guidance step holds the decoder's graph.
    /// </summary>
    public static Tensor Swish(Tensor x) => nn.functional.silu(x);

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
