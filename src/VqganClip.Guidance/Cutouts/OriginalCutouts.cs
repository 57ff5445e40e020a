using TorchSharp;
using VqganClip.Guidance.Autograd;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Cutouts;

/// <summary>
/// The original notebook's <c>MakeCutouts</c>: square crops whose side is
/// <c>int(rand^cut_pow · (max_size − min_size) + min_size)</c> (max_size = the picture's shorter side,
/// min_size = min(that, cut size)) at uniformly random offsets, each resampled to the cut size, then clamped to [0,1]
/// with the gradient-friendly clamp. cut_pow &gt; 1 favours small crops (detail), &lt; 1 large ones (composition).
/// Resampling is batched (<see cref="CutoutSampler"/>) instead of the original's per-cutout Lanczos;
/// <see cref="ReferenceCut"/> keeps the per-cutout way for comparison.
/// </summary>
public sealed class OriginalCutouts : ICutouts
{
    public OriginalCutouts(int cutSize, int count, double cutPower = 1.0)
    {
        if (cutSize <= 0) throw new ArgumentOutOfRangeException(nameof(cutSize), "Cut size must be positive.");
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "Need at least one cutout.");
        if (!(cutPower > 0) || double.IsInfinity(cutPower)) throw new ArgumentOutOfRangeException(nameof(cutPower), $"Cut power must be a positive number; got {cutPower}.");
        CutSize = cutSize;
        Count = count;
        CutPower = cutPower;
    }

    public int CutSize { get; }
    public int Count { get; }
    public double CutPower { get; }

    public ICutouts WithCount(int count) => count == Count ? this : new OriginalCutouts(CutSize, count, CutPower);
    public string Name => "original";

    public Tensor Cut(Tensor image, Generator rng) =>
        Cut(image, DrawBoxes((int)image.shape[2], (int)image.shape[3], rng));

    /// <summary>Draws <see cref="Count"/> crop boxes for a picture of the given size (sizes, then x offsets, then y offsets).</summary>
    public IReadOnlyList<CutoutBox> DrawBoxes(int height, int width, Generator rng) =>
        DrawBoxes(height, width, Count, CutSize, CutPower, rng);

    internal static IReadOnlyList<CutoutBox> DrawBoxes(int height, int width, int count, int cutSize, double cutPower, Generator rng)
    {
        int maxSize = Math.Min(width, height);
        int minSize = Math.Min(maxSize, cutSize);
        using var scope = NewDisposeScope();
        var u = rand(new long[] { 3, count }, ScalarType.Float64, generator: rng).data<double>().ToArray();
        var boxes = new CutoutBox[count];
        for (int i = 0; i < count; i++)
        {
            int size = (int)(Math.Pow(u[i], cutPower) * (maxSize - minSize) + minSize);
            int x = (int)Math.Floor(u[count + i] * (width - size + 1));
            int y = (int)Math.Floor(u[2 * count + i] * (height - size + 1));
            boxes[i] = new CutoutBox(Math.Min(x, width - size), Math.Min(y, height - size), size);
        }
        return boxes;
    }

    /// <summary>Batched cutouts for given boxes: one grid_sample per pre-filter level, clamped to [0,1].</summary>
    public Tensor Cut(Tensor image, IReadOnlyList<CutoutBox> boxes)
    {
        using var scope = NewDisposeScope();
        var sampled = CutoutSampler.Sample(image, boxes.Select(b => b.ToMatrix()).ToList(),
            boxes.Select(b => (double)b.Size / CutSize).ToList(), CutSize);
        return GradientTricks.ClampWithGrad(sampled, 0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The per-cutout reference: crop each box and resize it with <c>interpolate</c> (bilinear, align_corners=false,
    /// antialiased when it shrinks by more than 2×, the batched path's pre-filter policy). Slow; for tests and teaching.
    /// </summary>
    public Tensor ReferenceCut(Tensor image, IReadOnlyList<CutoutBox> boxes)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        foreach (var b in boxes)
        {
            var crop = image[.., .., b.Y..(b.Y + b.Size), b.X..(b.X + b.Size)];
            bool antialias = CutoutSampler.PoolFactor((double)b.Size / CutSize) > 1;
            parts.Add(nn.functional.interpolate(crop, new long[] { CutSize, CutSize }, mode: InterpolationMode.Bilinear,
                align_corners: false, antialias: antialias));
        }
        return cat(parts, 0).clamp(0, 1).MoveToOuterDisposeScope();
    }
}
