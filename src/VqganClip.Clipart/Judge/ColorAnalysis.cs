namespace VqganClip.Clipart.Judge;

/// <summary>
/// Every pixel of a 64x64 image labelled with the nearest palette colour, "background" or
/// "unknown" (nothing within <see cref="JudgeSettings.MatchDistance"/>), in CIELAB. The
/// background is the claimed one, or else the one whose colours best match the image border.
/// </summary>
public sealed class ColorAnalysis
{
    public const int Side = SceneLayout.Size;
    public const sbyte BackgroundLabel = -1;
    public const sbyte UnknownLabel = -2;

    private readonly sbyte[] _labels;
    private readonly float[] _image;
    private readonly Palette.Lab[] _lab;
    private readonly Dictionary<int, ColorRegion> _regions = new();

    private ColorAnalysis(float[] image, Palette.Lab[] lab, sbyte[] labels, SceneBackground background, bool estimated)
    {
        _image = image;
        _lab = lab;
        _labels = labels;
        Background = background;
        BackgroundEstimated = estimated;
    }

    /// <summary>The background the labels assume.</summary>
    public SceneBackground Background { get; }

    /// <summary>True when no background was claimed and it was read off the image border.</summary>
    public bool BackgroundEstimated { get; }

    /// <summary>Per-pixel label, row-major: palette index (int)ClipartColor, or <see cref="BackgroundLabel"/> / <see cref="UnknownLabel"/>.</summary>
    public ReadOnlySpan<sbyte> Labels => _labels;

    /// <summary>The analysed image, planar RGB [3,64,64] in [0,1].</summary>
    public ReadOnlySpan<float> Image => _image;

    /// <param name="planarRgb">[3,64,64] floats in [0,1] (R plane, G plane, B plane).</param>
    /// <param name="background">The claimed background, or null to estimate it from the border.</param>
    public static ColorAnalysis Analyze(float[] planarRgb, SceneBackground? background, JudgeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(planarRgb);
        const int n = Side * Side;
        if (planarRgb.Length != 3 * n)
            throw new ArgumentException($"Expected a planar [3,{Side},{Side}] image ({3 * n} floats), got {planarRgb.Length}.", nameof(planarRgb));

        var lab = new Palette.Lab[n];
        for (int i = 0; i < n; i++)
            lab[i] = Palette.ToLab(planarRgb[i], planarRgb[n + i], planarRgb[2 * n + i]);

        bool estimated = background is null;
        var bg = background ?? EstimateBackground(lab, settings.MatchDistance);
        var bgColors = Palette.ColorsOf(bg).Select(c => c.ToLab()).ToArray();
        var palette = Vocabulary.Colors.Select(c => Palette.Of(c).ToLab()).ToArray();

        var labels = new sbyte[n];
        for (int i = 0; i < n; i++)
        {
            // Background colours first, palette only when strictly nearer: white pixels on a
            // white background are background.
            float best = float.MaxValue;
            sbyte label = UnknownLabel;
            foreach (var c in bgColors)
            {
                float d = lab[i].DistanceTo(c);
                if (d < best) { best = d; label = BackgroundLabel; }
            }
            for (int k = 0; k < palette.Length; k++)
            {
                float d = lab[i].DistanceTo(palette[k]);
                if (d < best) { best = d; label = (sbyte)k; }
            }
            labels[i] = best <= settings.MatchDistance ? label : UnknownLabel;
        }
        return new ColorAnalysis(planarRgb, lab, labels, bg, estimated);
    }

    /// <summary>The region of one colour, or of all foreground (not background) pixels when color is null.</summary>
    public ColorRegion Region(ClipartColor? color)
    {
        int key = color is { } c ? (int)c : -1;
        if (!_regions.TryGetValue(key, out var region))
        {
            var mask = new bool[_labels.Length];
            for (int i = 0; i < mask.Length; i++)
                mask[i] = color is { } cc ? _labels[i] == (sbyte)cc : _labels[i] != BackgroundLabel;
            _regions[key] = region = ColorRegion.FromMask(mask, Side);
        }
        return region;
    }

    /// <summary>
    /// Fraction of the rows [y0,y1) (fractions of the height) that show the background colour,
    /// among the pixels not covered by <paramref name="covered"/>.
    /// </summary>
    public (float Fraction, int Uncovered) BackgroundFraction(float y0, float y1, Palette.Rgb expected, float matchDistance, IEnumerable<ColorRegion> covered)
    {
        var coveredMask = new bool[_labels.Length];
        foreach (var r in covered)
            for (int i = 0; i < coveredMask.Length; i++)
                coveredMask[i] |= r.Mask[i];
        var target = expected.ToLab();
        int rowStart = (int)MathF.Round(y0 * Side), rowEnd = (int)MathF.Round(y1 * Side);
        int uncovered = 0, matching = 0;
        for (int y = rowStart; y < rowEnd; y++)
            for (int x = 0; x < Side; x++)
            {
                int i = y * Side + x;
                if (coveredMask[i]) continue;
                uncovered++;
                if (_lab[i].DistanceTo(target) <= matchDistance) matching++;
            }
        return (uncovered == 0 ? 0f : matching / (float)uncovered, uncovered);
    }

    /// <summary>The background whose colours best match the 2-pixel border ring (grass: sky above the horizon, grass below).</summary>
    private static SceneBackground EstimateBackground(Palette.Lab[] lab, float matchDistance)
    {
        var best = SceneBackground.White;
        float bestScore = -1;
        foreach (var bg in Vocabulary.Backgrounds)
        {
            var colors = Palette.ColorsOf(bg).Select(c => c.ToLab()).ToArray();
            int match = 0, total = 0;
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                {
                    if (x is >= 2 and < Side - 2 && y is >= 2 and < Side - 2) continue;
                    total++;
                    var expected = colors.Length == 1 || y < SceneRenderer.Horizon * Side ? colors[0] : colors[1];
                    if (lab[y * Side + x].DistanceTo(expected) <= matchDistance) match++;
                }
            float score = match / (float)total;
            if (score > bestScore) { bestScore = score; best = bg; }
        }
        return best;
    }
}
