namespace VqganClip.Clipart.Judge;

/// <summary>
/// The classifier's view of one object: a square window round the object's colour region,
/// resampled to <see cref="Side"/>² with 2 planes: the region's mask (the silhouette in the named
/// colour) and the mask of every other non-background pixel (grey details such as a trunk, mast, stem
/// or door, and any neighbour). No RGB: the kind is told from shapes alone, whatever the colour and
/// background (raw colours made dark objects on the night sky look like padding). Built the same way
/// for training and judging, so the classifier sees what the judge will show it.
/// </summary>
public static class ObjectCrop
{
    public const int Side = 32;
    public const int Channels = 2;

    /// <summary>Window side relative to the region's bounding box (room for a trunk, stem or mast outside the colour).</summary>
    public const float Margin = 1.3f;

    /// <summary>The crop as planar floats [2, 32, 32] in [0,1]; outside the image both planes are 0.</summary>
    public static float[] Extract(ColorAnalysis analysis, ColorRegion region)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(region);
        if (region.IsEmpty) throw new ArgumentException("Cannot crop an empty colour region.", nameof(region));
        int n = ColorAnalysis.Side;
        float cx = (region.BoxLeft + region.BoxRight + 1) / 2f;
        float cy = (region.BoxTop + region.BoxBottom + 1) / 2f;
        float window = Math.Max(region.BoxRight - region.BoxLeft + 1, region.BoxBottom - region.BoxTop + 1) * Margin + 2f;
        float step = window / Side;
        var labels = analysis.Labels;
        var mask = region.Mask;
        var crop = new float[Channels * Side * Side];
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
            {
                // Pixel centres: source coordinate of this crop pixel's centre, then bilinear.
                float sx = cx - window / 2 + (x + 0.5f) * step - 0.5f;
                float sy = cy - window / 2 + (y + 0.5f) * step - 0.5f;
                int x0 = (int)MathF.Floor(sx), y0 = (int)MathF.Floor(sy);
                float fx = sx - x0, fy = sy - y0;
                int o = y * Side + x;
                for (int k = 0; k < 4; k++)
                {
                    int px = x0 + (k & 1), py = y0 + (k >> 1);
                    if (px < 0 || py < 0 || px >= n || py >= n) continue;
                    float w = ((k & 1) == 1 ? fx : 1 - fx) * ((k >> 1) == 1 ? fy : 1 - fy);
                    int i = py * n + px;
                    if (mask[i]) crop[o] += w;
                    else if (labels[i] != ColorAnalysis.BackgroundLabel) crop[Side * Side + o] += w;
                }
            }
        return crop;
    }
}
