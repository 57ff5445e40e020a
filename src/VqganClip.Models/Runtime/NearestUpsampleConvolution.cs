using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Runtime;

/// <summary>
/// A nearest-neighbour x2 upsampling followed by a 3x3 convolution (stride 1, zero padding 1), the decoder step of
/// taming's <c>Upsample</c>, computed as one transposed convolution of the low-resolution input (stride 2, a 4x4
/// kernel, padding 1) without building the upsampled picture. Written by hand: it is an algebraic rewrite, not something
/// a package offers.
/// <para>
/// Why it is the same function: after a nearest x2 upsampling, output row 2i sees upsampled rows 2i-1, 2i, 2i+1, which
/// are low-resolution rows i-1, i, i; row 2i+1 sees rows i, i, i+1. So along each axis the three taps w0, w1, w2 of
/// the 3x3 kernel fold into two per output phase: even rows take w0 from row i-1 and w1 + w2 from row i, odd rows
/// w0 + w1 from row i and w2 from row i+1. A transposed convolution with stride 2 and padding 1 sends input row i to
/// output row 2i - 1 + k through its tap k, so its 4-tap kernel is [w2, w1 + w2, w0 + w1, w0] along each axis
/// (<see cref="Fold"/>), and its output is already interleaved.
/// </para>
/// <para>
/// Why: 2 x 2 taps per output pixel and input channel instead of 3 x 3 (2.25x fewer multiply-adds), and no upsampled
/// tensor to write, read and back-propagate through. The results differ from the direct computation only by float
/// rounding (the folded taps are summed before multiplying); the gradients with respect to the input, the weight and
/// the bias are the same functions. The folded kernel is rebuilt at every call (one small matrix product), so a
/// weight that training or a state-dict load changes is always the one used.
/// </para>
/// <para>
/// The direct computation runs instead below 16 output channels (through <see cref="NarrowConvolution"/>, whose
/// remedy covers plain convolutions) and for inputs under <see cref="MinimumInputPixels"/> pixels: measured on this
/// project's machine (one thread, forward and backward to the input), the fold saved 25% at 128 channels 64x64 -> 128x128,
/// about 45% at 256 channels 32x32 -> 64x64 and 30% at 16x16 -> 32x32, but lost 20% at 512 channels 8x8 -> 16x16,
/// where rebuilding the 512 x 512 x 4 x 4 kernel and oneDNN's transposed convolution on 81 pixels cost more than the
/// multiply-adds saved. Tested against the direct computation in NearestUpsampleConvolutionTests.
/// </para>
/// </summary>
public static class NearestUpsampleConvolution
{
    /// <summary>Fold[k, t]: the share of 3x3 kernel tap t in the transposed convolution's tap k, along one axis.</summary>
    private static readonly float[,] Fold =
    {
        { 0, 0, 1 },   // k = 0: row i -> output 2i - 1 (odd phase, from below): w2
        { 0, 1, 1 },   // k = 1: row i -> output 2i (even phase): w1 + w2
        { 1, 1, 0 },   // k = 2: row i -> output 2i + 1 (odd phase): w0 + w1
        { 1, 0, 0 },   // k = 3: row i -> output 2i + 2 (even phase, from above): w0
    };

    /// <summary>Inputs with fewer pixels than this (16 x 16) take the direct computation; see the class summary.</summary>
    public const long MinimumInputPixels = 256;

    /// <summary>Fold ⊗ Fold as a (9, 16) matrix: 3x3 taps (t, u) to 4x4 taps (k, l).</summary>
    private static readonly float[] FoldBoth = BuildFoldBoth();

    private static float[] BuildFoldBoth()
    {
        var m = new float[9 * 16];
        for (int t = 0; t < 3; t++)
        for (int u = 0; u < 3; u++)
        for (int k = 0; k < 4; k++)
        for (int l = 0; l < 4; l++)
            m[(t * 3 + u) * 16 + k * 4 + l] = Fold[k, t] * Fold[l, u];
        return m;
    }

    /// <summary>
    /// conv2d(interpolate(<paramref name="x"/>, x2, nearest), <paramref name="weight"/>, <paramref name="bias"/>,
    /// padding 1) for a (C_out, C_in, 3, 3) weight.
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias)
    {
        if (x.dim() != 4)
            throw new ArgumentException($"expected an (N, C, H, W) input, got shape [{string.Join(", ", x.shape)}]", nameof(x));
        if (weight.dim() != 4 || weight.shape[2] != 3 || weight.shape[3] != 3)
            throw new ArgumentException($"expected a (C_out, C_in, 3, 3) weight, got shape [{string.Join(", ", weight.shape)}]", nameof(weight));
        if (weight.shape[1] != x.shape[1])
            throw new ArgumentException($"the weight takes {weight.shape[1]} input channels but the input has {x.shape[1]}", nameof(x));

        long cOut = weight.shape[0], cIn = weight.shape[1];
        using var scope = NewDisposeScope();
        if (cOut < NarrowConvolution.SafeOutputChannels || x.shape[2] * x.shape[3] < MinimumInputPixels)
        {
            var up = F.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
            return NarrowConvolution.Forward(up, weight, bias, padding: 1).MoveToOuterDisposeScope();
        }
        var foldBoth = tensor(FoldBoth, new long[] { 9, 16 }, dtype: weight.dtype, device: weight.device);
        // (C_out, C_in, 3, 3) -> (C_out, C_in, 4, 4) -> the transposed convolution's (C_in, C_out, 4, 4).
        var kernel = weight.reshape(cOut * cIn, 9).matmul(foldBoth).reshape(cOut, cIn, 4, 4).transpose(0, 1).contiguous();
        return NarrowConvolution.Transposed(x, kernel, bias, [2, 2], [1, 1]).MoveToOuterDisposeScope();
    }
}
