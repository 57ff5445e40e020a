using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.StyleGan2;

/// <summary>rosinality's <c>make_kernel</c>: a 1-D kernel becomes its outer product, normalised to sum 1.</summary>
public static class FirKernel
{
    public static Tensor Make(IReadOnlyList<int> taps)
    {
        using var scope = NewDisposeScope();
        var k = tensor(taps.Select(t => (float)t).ToArray());
        var kernel = k.unsqueeze(0) * k.unsqueeze(1);
        return (kernel / kernel.sum()).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// rosinality's <c>Blur(kernel, pad, upsample_factor)</c>: buffer <c>kernel</c> = make_kernel(k)·factor², the
/// forward upfirdn2d(x, kernel, pad). Used after the transposed convolution of an up-sampling StyledConv.
/// </summary>
public sealed class Blur : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Tensor kernel;
#pragma warning restore IDE1006

    public Blur(IReadOnlyList<int> taps, (int P0, int P1) pad, int upsampleFactor = 1) : base(nameof(Blur))
    {
        kernel = FirKernel.Make(taps);
        if (upsampleFactor > 1) kernel.mul_(upsampleFactor * upsampleFactor);
        register_buffer("kernel", kernel);
        Pad = pad;
    }

    public (int P0, int P1) Pad { get; }

    public override Tensor forward(Tensor input) => Upfirdn2d.Apply(input, kernel, pad: Pad);
}

/// <summary>
/// rosinality's <c>Upsample(kernel, factor=2)</c>: buffer <c>kernel</c> = make_kernel(k)·factor², pad
/// ((p+1)//2 + factor − 1, p//2) with p = len(k) − factor; the forward upfirdn2d(x, kernel, up=factor). ToRGB's skip.
/// </summary>
public sealed class Upsample : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Tensor kernel;
#pragma warning restore IDE1006

    public Upsample(IReadOnlyList<int> taps, int factor = 2) : base(nameof(Upsample))
    {
        kernel = FirKernel.Make(taps).mul_(factor * factor);
        register_buffer("kernel", kernel);
        Factor = factor;
        int p = taps.Count - factor;
        Pad = ((p + 1) / 2 + factor - 1, p / 2);
    }

    public int Factor { get; }

    public (int P0, int P1) Pad { get; }

    public override Tensor forward(Tensor input) => Upfirdn2d.Apply(input, kernel, up: Factor, pad: Pad);
}
