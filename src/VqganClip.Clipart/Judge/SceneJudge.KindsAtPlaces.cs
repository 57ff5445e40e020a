namespace VqganClip.Clipart.Judge;

/// <summary>
/// The colour-blind kind check: is the right kind of object drawn where the scene puts it, whatever colour it was
/// painted? <see cref="Judge(float[], CaptionSpec)"/> finds an object by the colour its caption names, so a picture in
/// the wrong colours fails its kind checks too; a model that never sees colours (pix2pix colouring an outline) needs
/// the shapes measured on their own. Here each object of a known <see cref="SceneSpec"/> is looked for in a window
/// round its drawn place: there every foreground pixel off the palette is given its nearest palette colour (a painter's
/// muddy yellow-brown becomes brown, while a grey trunk stays apart from the crown it holds), the window's most
/// frequent colour is taken as the object's colour, and that region goes to the kind classifier exactly as the judge
/// crops it. The background is estimated from the border, as the painter chose it; an object painted in a colour
/// the judge takes for that background (yellow-brown on sand) is not found.
/// </summary>
public sealed partial class SceneJudge
{
    /// <summary>
    /// Window side relative to the object's extent: the scenes rotate drawings by at most 10°, whose box is then at most
    /// 1.16 times the extent; a wider window takes in a same-coloured neighbour (a painter that knows no colours paints
    /// both objects alike).
    /// </summary>
    public const float PlaceWindow = 1.2f;

    /// <summary>The label given to pixels nearest the grey of drawn details (a trunk, a mast, a stem), kept apart from the body.</summary>
    private const sbyte DetailLabel = -3;

    /// <summary>
    /// One verdict per object of <paramref name="scene"/>: true when the region at its place is classified as its
    /// kind (the judge's rule: the top class, or the claimed kind at p &gt;= <see cref="JudgeSettings.MinKindProbability"/>).
    /// An object whose window holds no foreground region of at least the judge's minimum interior mass is false.
    /// </summary>
    public bool[] KindsAtPlaces(float[] planarRgb, SceneSpec scene)
    {
        ArgumentNullException.ThrowIfNull(planarRgb);
        ArgumentNullException.ThrowIfNull(scene);
        if (_classifier is null)
            throw new InvalidOperationException("The colour-blind kind check needs the judge's object classifier; none is loaded.");
        var analysis = ColorAnalysis.Analyze(planarRgb, background: null, Settings);
        var labels = NearestPaletteForUnknown(analysis);
        int n = ColorAnalysis.Side;
        var result = new bool[scene.Objects.Count];
        var crops = new List<(int Object, float[] Crop)>();
        for (int o = 0; o < scene.Objects.Count; o++)
        {
            var obj = scene.Objects[o];
            float half = obj.Extent * PlaceWindow / 2;
            int x0 = Math.Max(0, (int)MathF.Floor((obj.CenterX - half) * n)), x1 = Math.Min(n - 1, (int)MathF.Ceiling((obj.CenterX + half) * n));
            int y0 = Math.Max(0, (int)MathF.Floor((obj.CenterY - half) * n)), y1 = Math.Min(n - 1, (int)MathF.Ceiling((obj.CenterY + half) * n));
            // Labels are palette indices or BackgroundLabel (-1): count all but the background.
            var counts = new Dictionary<sbyte, int>();
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                {
                    sbyte l = labels[y * n + x];
                    if (l != ColorAnalysis.BackgroundLabel) counts[l] = counts.GetValueOrDefault(l) + 1;
                }
            if (counts.Count == 0) continue;
            counts.Remove(DetailLabel);
            if (counts.Count == 0) continue;
            sbyte dominant = counts.MaxBy(kv => kv.Value).Key;
            var mask = new bool[n * n];
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                    mask[y * n + x] = labels[y * n + x] == dominant;
            var region = ColorRegion.FromMask(mask, n);
            if (region.IsEmpty || region.CoreMass < Settings.MinCoreMass) continue;
            crops.Add((o, ObjectCrop.Extract(analysis, region)));
        }
        if (crops.Count == 0) return result;
        var probabilities = _classifier.Probabilities(crops.Select(c => c.Crop).ToList());
        for (int k = 0; k < crops.Count; k++)
        {
            var p = probabilities[k];
            int kind = (int)scene.Objects[crops[k].Object].Kind, best = 0;
            for (int j = 1; j < p.Length; j++) if (p[j] > p[best]) best = j;
            result[crops[k].Object] = best == kind || p[kind] >= Settings.MinKindProbability;
        }
        return result;
    }

    /// <summary>The analysis's labels with every off-palette foreground pixel given its nearest palette colour, or <see cref="DetailLabel"/> when it matches the details' grey.</summary>
    private sbyte[] NearestPaletteForUnknown(ColorAnalysis analysis)
    {
        var labels = analysis.Labels.ToArray();
        var image = analysis.Image;
        int n = labels.Length;
        var palette = Vocabulary.Colors.Select(c => Palette.Of(c).ToLab()).ToArray();
        var detail = Palette.Detail.ToLab();
        for (int i = 0; i < n; i++)
        {
            if (labels[i] != ColorAnalysis.UnknownLabel) continue;
            var lab = Palette.ToLab(image[i], image[n + i], image[2 * n + i]);
            int best = 0;
            for (int k = 1; k < palette.Length; k++)
                if (lab.DistanceTo(palette[k]) < lab.DistanceTo(palette[best])) best = k;
            labels[i] = lab.DistanceTo(detail) <= Settings.MatchDistance ? DetailLabel : (sbyte)best;
        }
        return labels;
    }
}
