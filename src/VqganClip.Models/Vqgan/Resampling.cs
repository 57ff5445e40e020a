using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using VqganClip.Models.Runtime;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// taming's <c>Downsample</c>: with a conv, pad (0,1,0,1) — right and bottom only, since torch convs
/// have no asymmetric padding — then a 3x3 stride-2 conv without padding; without, 2x2 average pooling.
/// </summary>
public sealed class Downsample : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d? conv;

    public Downsample(long channels, bool withConv) : base(nameof(Downsample))
    {
        if (withConv)
        {
            conv = VqganLayers.Conv3x3(channels, channels, stride: 2, padding: 0);
            register_module("conv", conv);
        }
    }

    public override Tensor forward(Tensor x)
    {
        if (conv is null) return nn.functional.avg_pool2d(x, kernel_size: 2, stride: 2);
        using var padded = nn.functional.pad(x, new long[] { 0, 1, 0, 1 }, PaddingModes.Constant, 0);
        return NarrowConvolution.Forward(conv, padded);
    }
}

/// <summary>
/// taming's <c>Upsample</c>: nearest-neighbour x2, then (with_conv) a 3x3 conv. With the conv, the two run as one
/// <see cref="NearestUpsampleConvolution"/> on the low-resolution input (the same function, 2.25x fewer multiply-adds).
/// </summary>
public sealed class Upsample : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d? conv;

    public Upsample(long channels, bool withConv) : base(nameof(Upsample))
    {
        if (withConv)
        {
            conv = VqganLayers.Conv3x3(channels, channels);
            register_module("conv", conv);
        }
    }

    public override Tensor forward(Tensor x)
    {
        if (conv is null) return nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
        return NearestUpsampleConvolution.Forward(x, conv.weight!, conv.bias);
    }
}
