using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Guidance;

/// <summary>
/// The picture operations of the pipeline's composition: a picture shrunk about a point (what was drawn there stays
/// there, smaller; the margins it leaves repeat the picture's border, which is its backdrop), moved from one point to
/// another, and two pictures joined at the middle. Pictures are [B, 3, H, W] in [0, 1].
/// </summary>
public static class PictureLayout
{
    /// <summary>
    /// <paramref name="image"/> scaled by <paramref name="scale"/> (0 &lt; scale ≤ 1) about the point
    /// <paramref name="centre"/> (fractions of width and height): output pixel q shows input point c + (q − c)/scale,
    /// bilinear, the input's border repeated outside it. Scale 1 returns an equal copy.
    /// </summary>
    /// <exception cref="ArgumentException">A scale outside (0, 1], or not a batch of pictures.</exception>
    public static Tensor Shrink(Tensor image, double scale, (double X, double Y) centre) => Move(image, scale, centre, centre);

    /// <summary>
    /// <paramref name="image"/> scaled by <paramref name="scale"/> (0 &lt; scale ≤ 1) and moved so that the point
    /// <paramref name="from"/> lands on <paramref name="to"/> (fractions of width and height): output pixel q shows
    /// input point from + (q − to)/scale, bilinear, the input's border repeated outside it (a thing drawn in the middle
    /// of a plain backdrop moves to a place, the backdrop filling what it leaves). Scale 1 with from = to returns an equal copy.
    /// </summary>
    /// <exception cref="ArgumentException">A scale outside (0, 1], or not a batch of pictures.</exception>
    public static Tensor Move(Tensor image, double scale, (double X, double Y) from, (double X, double Y) to)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!(scale > 0 && scale <= 1)) throw new ArgumentException($"A picture is shrunk by a scale in (0, 1]; got {scale}.", nameof(scale));
        if (image.dim() != 4) throw new ArgumentException($"Pictures are [B, C, H, W]; got [{string.Join(", ", image.shape)}].", nameof(image));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        if (scale == 1 && from == to) return image.clone().MoveToOuterDisposeScope();
        long b = image.shape[0], h = image.shape[2], w = image.shape[3];
        // grid_sample's coordinates (align_corners=false): -1 and 1 are the outer edges of the corner pixels;
        // input = f + (output − t)/scale, so the affine row is (1/scale, 0, f − t/scale)
        double fx = 2 * from.X - 1, fy = 2 * from.Y - 1, tx = 2 * to.X - 1, ty = 2 * to.Y - 1, inv = 1 / scale;
        var theta = tensor(new float[] { (float)inv, 0, (float)(fx - tx * inv), 0, (float)inv, (float)(fy - ty * inv) }, new long[] { 1, 2, 3 })
            .to(image.device).expand(b, 2, 3);
        var grid = nn.functional.affine_grid(theta, new long[] { b, image.shape[1], h, w }, align_corners: false);
        return nn.functional.grid_sample(image, grid.to(image.dtype), GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false)
            .clamp(HeldScalars.Zero, HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The upper (<see cref="RegionAxis.Rows"/>) or left half of <paramref name="first"/> beside the rest of
    /// <paramref name="second"/> (the first half rounded down, as <see cref="RegionalCaptions.RegionOfTokens"/> divides a grid).
    /// </summary>
    /// <exception cref="ArgumentException">Pictures of different shapes.</exception>
    public static Tensor JoinHalves(Tensor first, Tensor second, RegionAxis axis)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!first.shape.SequenceEqual(second.shape) || first.dim() != 4)
            throw new ArgumentException($"Two pictures of one shape [B, C, H, W] are joined; got [{string.Join(", ", first.shape)}] and [{string.Join(", ", second.shape)}].");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int dim = axis == RegionAxis.Rows ? 2 : 3;
        long half = first.shape[dim] / 2;
        return cat(new[] { first.narrow(dim, 0, half), second.narrow(dim, half, first.shape[dim] - half) }, dim).MoveToOuterDisposeScope();
    }
}
