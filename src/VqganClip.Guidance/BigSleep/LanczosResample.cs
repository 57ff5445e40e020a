using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.BigSleep;

/// <summary>
/// <c>big_sleep/resample.py</c>'s <c>resample(input, size)</c> (Katherine Crowson's): along each axis that shrinks,
/// a separable Lanczos-3 filter whose taps are <c>ramp(out/in, 3)</c> (reflect padding, one conv per axis), then
/// bicubic interpolation with align_corners=True. Not sRGB-aware (upstream's default is_srgb=False).
/// Kernel taps are computed in double and stored as float32 (upstream builds them in float32).
/// </summary>
public static class LanczosResample
{
    /// <summary>[n,c,h,w] → [n,c,outHeight,outWidth].</summary>
    public static Tensor Resample(Tensor input, int outHeight, int outWidth)
    {
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        using var scope = NewDisposeScope();
        var x = input.reshape(n * c, 1, h, w);
        if (outHeight < h)
        {
            var k = Kernel((double)outHeight / h, input);
            long pad = (k.shape[0] - 1) / 2;
            x = nn.functional.pad(x, new long[] { 0, 0, pad, pad }, PaddingModes.Reflect);
            x = nn.functional.conv2d(x, k.view(1, 1, -1, 1));
        }
        if (outWidth < w)
        {
            var k = Kernel((double)outWidth / w, input);
            long pad = (k.shape[0] - 1) / 2;
            x = nn.functional.pad(x, new long[] { pad, pad, 0, 0 }, PaddingModes.Reflect);
            x = nn.functional.conv2d(x, k.view(1, 1, 1, -1));
        }
        x = x.view(n, c, h, w);
        return nn.functional.interpolate(x, new long[] { outHeight, outWidth }, mode: InterpolationMode.Bicubic, align_corners: true)
            .MoveToOuterDisposeScope();
    }

    /// <summary>Normalised Lanczos-3 taps at <see cref="Ramp"/>(ratio, 3).</summary>
    internal static Tensor Kernel(double ratio, Tensor like)
    {
        var taps = Ramp(ratio, 3).Select(t => Lanczos(t, 3)).ToArray();
        double sum = taps.Sum();
        return tensor(taps.Select(t => (float)(t / sum)).ToArray(), dtype: like.dtype, device: like.device);
    }

    /// <summary>resample.py's <c>ramp</c>: 0, ±ratio, ±2·ratio, … out to ⌈width/ratio + 1⌉ − 1 steps, minus the two ends.</summary>
    internal static double[] Ramp(double ratio, double width)
    {
        int count = (int)Math.Ceiling(width / ratio + 1);
        var half = new double[count];
        double cur = 0;
        for (int i = 0; i < count; i++) { half[i] = (float)cur; cur += ratio; }   // stored into a float32 tensor upstream
        var full = half.Skip(1).Reverse().Select(v => -v).Concat(half).ToArray();
        return full[1..^1];
    }

    private static double Sinc(double x) => x != 0 ? Math.Sin(Math.PI * x) / (Math.PI * x) : 1;

    private static double Lanczos(double x, double a) => -a < x && x < a ? Sinc(x) * Sinc(x / a) : 0;
}
