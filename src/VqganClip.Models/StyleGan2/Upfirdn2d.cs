using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// rosinality's <c>op/upfirdn2d.py</c> <c>upfirdn2d_native</c> (the path its CPU tensors take): upsample by inserting
/// up−1 zeros after every sample, pad (negative pads crop), convolve with the flipped kernel (a true FIR
/// convolution), keep every down-th sample. The same pad pair applies to both axes, as upstream's
/// <c>upfirdn2d(input, kernel, up, down, pad=(p0, p1))</c>.
/// <para>
/// The FIR step is a sum of kernel-weighted shifted views instead of upstream's 1-output-channel conv2d: libtorch's
/// CPU float32 input gradient of a convolution with fewer than 16 output channels is unreliable
/// (<c>Runtime/NarrowConvolution</c>), and every gradient the StyleCLIP loop needs flows through here. The sum is
/// exact in the forward up to float rounding order.
/// </para>
/// </summary>
public static class Upfirdn2d
{
    /// <summary>x [B, C, H, W], kernel [kh, kw] → [B, C, (H·up + p0 + p1 − kh) / down + 1, (W·up + p0 + p1 − kw) / down + 1].</summary>
    public static Tensor Apply(Tensor x, Tensor kernel, int up = 1, int down = 1, (int P0, int P1) pad = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(kernel);
        if (x.dim() != 4) throw new ArgumentException($"upfirdn2d expects [B, C, H, W], got [{string.Join(", ", x.shape)}].", nameof(x));
        if (kernel.dim() != 2) throw new ArgumentException($"upfirdn2d expects a 2-D kernel, got [{string.Join(", ", kernel.shape)}].", nameof(kernel));
        if (up < 1 || down < 1) throw new ArgumentOutOfRangeException(nameof(up), "up and down must be at least 1.");

        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var output = x;
        if (up > 1)
        {
            // [B, C, H, 1, W, 1] padded to [B, C, H, up, W, up]: each sample followed by up−1 zeros on both axes.
            output = F.pad(x.reshape(b, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1]).reshape(b, c, h * up, w * up);
        }
        output = PadOrCrop(output, pad.P0, pad.P1);

        int kh = (int)kernel.shape[0], kw = (int)kernel.shape[1];
        long outH = output.shape[2] - kh + 1, outW = output.shape[3] - kw + 1;
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"upfirdn2d: the padded input [{output.shape[2]}, {output.shape[3]}] is smaller than the kernel [{kh}, {kw}].");
        // conv2d with the flipped kernel = correlation with flip(k): out[i, j] = Σ k[kh−1−a, kw−1−b] · in[i+a, j+b].
        var taps = kernel.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
        Tensor? sum = null;
        for (int a = 0; a < kh; a++)
        {
            for (int bb = 0; bb < kw; bb++)
            {
                double tap = taps[(kh - 1 - a) * kw + (kw - 1 - bb)];
                if (tap == 0) continue;
                var view = output.narrow(2, a, outH).narrow(3, bb, outW);
                if (sum is null) sum = view.mul(tap);
                else sum.add_(view, alpha: tap);
            }
        }
        sum ??= zeros_like(output.narrow(2, 0, outH).narrow(3, 0, outW));
        if (down > 1)
            sum = sum.slice(2, 0, outH, down).slice(3, 0, outW, down);
        return sum.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Positive pads add zeros, negative ones crop (upstream: F.pad of the positive parts, then slicing).</summary>
    private static Tensor PadOrCrop(Tensor x, int p0, int p1)
    {
        if (p0 > 0 || p1 > 0) x = F.pad(x, [Math.Max(p0, 0), Math.Max(p1, 0), Math.Max(p0, 0), Math.Max(p1, 0)]);
        if (p0 < 0 || p1 < 0)
        {
            long h = x.shape[2], w = x.shape[3];
            int c0 = Math.Max(-p0, 0), c1 = Math.Max(-p1, 0);
            x = x.narrow(2, c0, h - c0 - c1).narrow(3, c0, w - c0 - c1);
        }
        return x;
    }
}
