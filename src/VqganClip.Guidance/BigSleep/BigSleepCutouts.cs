using TorchSharp;
using VqganClip.Guidance.Cutouts;
using static TorchSharp.torch;

namespace VqganClip.Guidance.BigSleep;

/// <summary>How <see cref="BigSleepCutouts"/> resizes each crop to the cut size.</summary>
public enum BigSleepResize
{
    /// <summary>Big Sleep's default: <c>F.interpolate(mode='nearest')</c> (PyTorch's legacy nearest, index ⌊i·in/out⌋).</summary>
    Nearest,

    /// <summary><c>bilinear=True</c>: <c>F.interpolate(mode='bilinear', align_corners=False)</c>, no anti-aliasing.</summary>
    Bilinear,

    /// <summary><c>experimental_resample=True</c>: <c>big_sleep/resample.py</c> — Lanczos-3 pre-filter when shrinking, then bicubic (align_corners=True).</summary>
    Lanczos,
}

/// <summary>
/// Big Sleep's cutouts (lucidrains/big-sleep 0.9.1, <c>BigSleep.forward</c> and <c>rand_cutout</c>): for each of
/// <see cref="Count"/> cutouts, side = <c>int(W · clip(N(0.8, 0.3), 0.5, 0.95))</c>, a square crop at a uniformly random
/// offset (or, with <see cref="CenterBias"/>, offsets ~ N(m/2, m/2/<see cref="CenterFocus"/>) truncated to int, redrawn
/// uniformly when outside [0, m], m = W − side), resized on its own to the cut size (nearest by default). No clamp, no
/// augmentation. Unlike the toolkit's own cutouts this is not batched: one crop and one interpolate per cutout, as upstream.
/// Randomness: all from the run's generator (upstream mixes torch's RNG for sizes and Python's <c>random</c> for offsets,
/// so its exact draws cannot be reproduced anyway): sizes, then (centre bias only) the 2×Count normals, then the
/// 2×Count uniforms, each as one block; offsets are drawn rows first, as upstream's <c>offset_x</c> indexes dim 2.
/// Upstream takes W = the picture's side (its pictures are square); here W = min(H, W) and each axis has its own range.
/// </summary>
public sealed class BigSleepCutouts : ICutouts
{
    public BigSleepCutouts(int cutSize = BigSleepDefaults.CutSize, int count = BigSleepDefaults.CutoutCount,
        BigSleepResize resize = BigSleepResize.Nearest, bool centerBias = false, double centerFocus = BigSleepDefaults.CenterFocus)
    {
        if (cutSize <= 0) throw new ArgumentOutOfRangeException(nameof(cutSize), "Cut size must be positive.");
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "Need at least one cutout.");
        if (!(centerFocus > 0)) throw new ArgumentOutOfRangeException(nameof(centerFocus), "Centre focus must be positive.");
        CutSize = cutSize;
        Count = count;
        Resize = resize;
        CenterBias = centerBias;
        CenterFocus = centerFocus;
    }

    public int CutSize { get; }
    public int Count { get; }
    public BigSleepResize Resize { get; }
    public bool CenterBias { get; }
    public double CenterFocus { get; }

    public ICutouts WithCount(int count) => count == Count ? this : new BigSleepCutouts(CutSize, count, Resize, CenterBias, CenterFocus);
    public string Name => "bigsleep";

    public Tensor Cut(Tensor image, Generator rng) =>
        Cut(image, DrawBoxes((int)image.shape[2], (int)image.shape[3], rng));

    /// <summary>
    /// The side of a cutout of a picture of side <paramref name="side"/> for a drawn fraction (already clipped to
    /// [0.5, 0.95]): <c>int(side · fraction)</c> with the product in float32, as upstream's <c>int(width * tensor)</c>.
    /// </summary>
    public static int CutoutSide(int side, float fraction) => (int)(float)(side * fraction);

    /// <summary>Draws <see cref="Count"/> boxes (X = column offset, Y = row offset) for a picture of the given size.</summary>
    public IReadOnlyList<CutoutBox> DrawBoxes(int height, int width, Generator rng)
    {
        int side = Math.Min(height, width);
        using var scope = NewDisposeScope();
        var z = randn(new long[] { Count }, ScalarType.Float32, generator: rng).data<float>().ToArray();
        double[]? gauss = CenterBias
            ? randn(new long[] { 2, Count }, ScalarType.Float64, generator: rng).data<double>().ToArray()
            : null;
        var u = rand(new long[] { 2, Count }, ScalarType.Float64, generator: rng).data<double>().ToArray();
        var boxes = new CutoutBox[Count];
        for (int i = 0; i < Count; i++)
        {
            float fraction = Math.Clamp(z[i] * (float)BigSleepDefaults.CutoutFractionStd + (float)BigSleepDefaults.CutoutFractionMean,
                (float)BigSleepDefaults.CutoutFractionMin, (float)BigSleepDefaults.CutoutFractionMax);
            int size = CutoutSide(side, fraction);
            int row = Offset(height - size, gauss?[i], u[i]);
            int col = Offset(width - size, gauss?[Count + i], u[Count + i]);
            boxes[i] = new CutoutBox(col, row, size);
        }
        return boxes;
    }

    private int Offset(int maxOffset, double? normal, double uniform)
    {
        if (normal is double g)
        {
            double center = maxOffset / 2.0;
            double std = center / CenterFocus;
            double drawn = center + std * g;
            // Python's int() truncates toward zero: -0.7 becomes 0 and is kept, as upstream
            if (Math.Abs(drawn) < int.MaxValue)
            {
                int offset = (int)drawn;
                if (offset >= 0 && offset <= maxOffset) return offset;
            }
        }
        return Math.Min((int)Math.Floor(uniform * (maxOffset + 1)), maxOffset);   // random.randint(0, max), inclusive
    }

    /// <summary>Crops each box and resizes it to the cut size: [boxes.Count, C, CutSize, CutSize], differentiable.</summary>
    public Tensor Cut(Tensor image, IReadOnlyList<CutoutBox> boxes)
    {
        if (image.dim() != 4 || image.shape[0] != 1)
            throw new ArgumentException($"Cutouts are cut from one picture [1,C,H,W]; got [{string.Join(", ", image.shape)}].", nameof(image));
        using var scope = NewDisposeScope();
        var pieces = new List<Tensor>(boxes.Count);
        foreach (var b in boxes)
        {
            var crop = image[.., .., b.Y..(b.Y + b.Size), b.X..(b.X + b.Size)];
            pieces.Add(ResizeTo(crop, CutSize, Resize));
        }
        return cat(pieces, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Resizes [n,C,h,w] to [n,C,size,size] the way Big Sleep's chosen mode does.</summary>
    public static Tensor ResizeTo(Tensor crop, int size, BigSleepResize mode) => mode switch
    {
        BigSleepResize.Nearest => nn.functional.interpolate(crop, new long[] { size, size }, mode: InterpolationMode.Nearest),
        BigSleepResize.Bilinear => nn.functional.interpolate(crop, new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: false),
        BigSleepResize.Lanczos => LanczosResample.Resample(crop, size, size),
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };
}
