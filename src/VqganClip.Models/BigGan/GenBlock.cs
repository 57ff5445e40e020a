using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.BigGan;

/// <summary>
/// upstream's <c>GenBlock</c> (BigGAN-deep residual block): bn_0→relu→conv_0 (1×1, in→in/4)→bn_1→relu→[nearest ×2]
/// →conv_1 (3×3)→bn_2→relu→conv_2 (3×3)→bn_3→relu→conv_3 (1×1, →out); skip: the first in/2 channels when in ≠ out,
/// nearest ×2 when up-sampling; the sum. Every norm is conditional on the block's cond vector.
/// </summary>
public sealed class GenBlock : nn.Module
{
#pragma warning disable IDE1006
    private readonly BigGanBatchNorm bn_0, bn_1, bn_2, bn_3;
    private readonly SNConv2d conv_0, conv_1, conv_2, conv_3;
#pragma warning restore IDE1006

    public GenBlock(long inSize, long outSize, long conditionDim, bool upSample, int nStats, double eps, int reductionFactor = 4)
        : base(nameof(GenBlock))
    {
        InSize = inSize;
        OutSize = outSize;
        UpSample = upSample;
        long middle = inSize / reductionFactor;
        // upstream's attribute order: bn_0, conv_0, bn_1, conv_1, bn_2, conv_2, bn_3, conv_3.
        bn_0 = new BigGanBatchNorm(inSize, conditionDim, nStats, eps);
        conv_0 = new SNConv2d(inSize, middle, 1, 0, hasBias: true, eps);
        bn_1 = new BigGanBatchNorm(middle, conditionDim, nStats, eps);
        conv_1 = new SNConv2d(middle, middle, 3, 1, hasBias: true, eps);
        bn_2 = new BigGanBatchNorm(middle, conditionDim, nStats, eps);
        conv_2 = new SNConv2d(middle, middle, 3, 1, hasBias: true, eps);
        bn_3 = new BigGanBatchNorm(middle, conditionDim, nStats, eps);
        conv_3 = new SNConv2d(middle, outSize, 1, 0, hasBias: true, eps);
        register_module("bn_0", bn_0);
        register_module("conv_0", conv_0);
        register_module("bn_1", bn_1);
        register_module("conv_1", conv_1);
        register_module("bn_2", bn_2);
        register_module("conv_2", conv_2);
        register_module("bn_3", bn_3);
        register_module("conv_3", conv_3);
    }

    public long InSize { get; }
    public long OutSize { get; }
    public bool UpSample { get; }

    /// <summary>x [B, in, H, W], cond [B, 2·z_dim] (B may be 1 against a batch of 1, as Big Sleep's per-block forward) → [B, out, H', W'].</summary>
    public Tensor Forward(Tensor x, Tensor condition, double truncation)
    {
        using var scope = NewDisposeScope();
        var h = bn_0.Forward(x, truncation, condition).relu();
        h = conv_0.forward(h);
        h = bn_1.Forward(h, truncation, condition).relu();
        if (UpSample) h = Upsample(h);
        h = conv_1.forward(h);
        h = bn_2.Forward(h, truncation, condition).relu();
        h = conv_2.forward(h);
        h = bn_3.Forward(h, truncation, condition).relu();
        h = conv_3.forward(h);

        var skip = x;
        if (InSize != OutSize) skip = skip.narrow(1, 0, x.shape[1] / 2);
        if (UpSample) skip = Upsample(skip);
        return (h + skip).MoveToOuterDisposeScope();
    }

    private static Tensor Upsample(Tensor x) =>
        F.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
}
