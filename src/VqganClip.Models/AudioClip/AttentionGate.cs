using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// upstream <c>Attention2d</c> (model/esresnet/attention.py), the gate ESResNeXt multiplies each stage's output by:
/// adaptive max pool of the stage's <em>input</em> to the output's size, a depthwise convolution
/// <c>conv_depth</c> (groups = in channels, num_kernels filters each, "same" padding), a pointwise
/// <c>conv_point</c>, batch norm <c>bn</c> and a sigmoid. Both convolutions have biases (Conv2d's default).
/// </summary>
public sealed class AttentionGate : nn.Module<Tensor, long[], Tensor>
{
#pragma warning disable IDE1006 // reference parameter names
    public readonly Conv2d conv_depth;
    public readonly Conv2d conv_point;
    public readonly BatchNorm2d bn;
#pragma warning restore IDE1006

    public AttentionGate(int inChannels, int outChannels, int numKernels, (int H, int W) kernel) : base("Attention2d")
    {
        if (kernel.H % 2 == 0 || kernel.W % 2 == 0)
            throw new ArgumentException($"Attention kernel {kernel.H}x{kernel.W}: upstream's kernels are odd, padded to keep the size.", nameof(kernel));
        Kernel = kernel;
        conv_depth = nn.Conv2d(inChannels, inChannels * numKernels, (kernel.H, kernel.W), padding: (kernel.H / 2, kernel.W / 2), groups: inChannels);
        conv_point = nn.Conv2d(inChannels * numKernels, outChannels, (1, 1));
        bn = nn.BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public (int H, int W) Kernel { get; }

    /// <summary>The gate for a stage with input <paramref name="x"/> whose output is <paramref name="size"/> [h, w].</summary>
    public override Tensor forward(Tensor x, long[] size)
    {
        using var scope = NewDisposeScope();
        var y = F.adaptive_max_pool2d(x, size);
        y = conv_depth.forward(y); // depthwise: groups > 1, which NarrowConvolution leaves to libtorch anyway
        y = NarrowConvolution.Forward(conv_point, y);
        y = bn.forward(y);
        return y.sigmoid().MoveToOuterDisposeScope();
    }
}
