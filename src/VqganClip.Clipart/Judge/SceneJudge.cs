using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Clipart.Judge;

/// <summary>
/// The independent judge: does an image satisfy a caption? Colour, position, size, relation and
/// background are checked analytically from colour masses and centroids (<see cref="ColorAnalysis"/>);
/// object kinds by a small trained classifier on the colour region's crop, when one is given
/// (else kind checks are skipped). No CLIP anywhere, so it can grade CLIP-guided generations.
/// The classifier runs one or two tiny crops per image: it is fastest with one torch thread
/// (<see cref="Eval.Evaluator"/> switches to one while judging).
/// </summary>
public sealed partial class SceneJudge
{
    private static readonly Lazy<float[]> AreaFactors = new(CalibrateAreaFactors);

    private readonly IObjectKindClassifier? _classifier;

    public SceneJudge(IObjectKindClassifier? classifier = null, JudgeSettings? settings = null)
    {
        _classifier = classifier;
        Settings = settings ?? JudgeSettings.Default;
    }

    public JudgeSettings Settings { get; }

    public bool ChecksKinds => _classifier is not null;

    /// <summary>The kind classifier (null when kinds are not checked); <see cref="SceneReader"/> reads kinds with it.</summary>
    public IObjectKindClassifier? Classifier => _classifier;

    public Verdict Judge(Tensor image, string prompt) => Judge(image, CaptionParser.Parse(prompt));

    /// <summary>Judges an image tensor [3,H,W] or [1,3,H,W] in [0,1], any size (resized to 64x64).</summary>
    public Verdict Judge(Tensor image, CaptionSpec spec) => Judge(ToPlanar64(image), spec);

    /// <summary>Judges a planar [3,64,64] float image in [0,1].</summary>
    public Verdict Judge(float[] planarRgb, CaptionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var analysis = ColorAnalysis.Analyze(planarRgb, spec.Background, Settings);
        var checks = new List<JudgeCheck>();
        var regions = new ColorRegion?[spec.Objects.Count];
        var crops = new List<(int Object, float[] Crop)>();

        for (int i = 0; i < spec.Objects.Count; i++)
        {
            var claim = spec.Objects[i];
            string who = spec.Objects.Count == 1 ? claim.ToString() : $"object {i + 1} ({claim})";
            var region = analysis.Region(claim.Color);
            string what = claim.Color?.Word() ?? "foreground";
            bool present = region.CoreMass >= Settings.MinCoreMass && region.Fill >= Settings.MinFill;
            string massText = $"{what} covers {Pct(region.Mass)} (interior {Pct(region.CoreMass)}, fills {Pct(region.Fill)} of its box)";
            checks.Add(new JudgeCheck($"{who}: colour", present ? CheckOutcome.Passed : CheckOutcome.Failed,
                present ? massText
                : region.CoreMass < Settings.MinCoreMass ? $"{what} mass {Pct(region.CoreMass)} < {Pct(Settings.MinCoreMass)}"
                : $"{what} region fills only {Pct(region.Fill)} < {Pct(Settings.MinFill)} of its box (a fringe, not an object)"));
            if (!present)
            {
                foreach (var name in new[] { claim.Position is null ? null : "position", claim.Size is null ? null : "size", "kind" })
                    if (name is not null)
                        checks.Add(new JudgeCheck($"{who}: {name}", CheckOutcome.Skipped, $"no {what} region to check"));
                continue;
            }
            regions[i] = region;
            if (claim.Position is { } position)
                checks.Add(CheckPosition(who, what, region, position));
            if (claim.Size is { } size)
                checks.Add(CheckSize(who, claim.Kind, region, size));
            if (_classifier is null)
                checks.Add(new JudgeCheck($"{who}: kind", CheckOutcome.Skipped, "no object classifier loaded"));
            else
                crops.Add((i, ObjectCrop.Extract(analysis, region)));
        }

        if (crops.Count > 0)
        {
            var probabilities = _classifier!.Probabilities(crops.Select(c => c.Crop).ToList());
            for (int k = 0; k < crops.Count; k++)
            {
                var claim = spec.Objects[crops[k].Object];
                string who = spec.Objects.Count == 1 ? claim.ToString() : $"object {crops[k].Object + 1} ({claim})";
                checks.Add(CheckKind(who, claim.Kind, probabilities[k]));
            }
        }

        if (spec.Relation is { } relation)
            checks.Add(CheckRelation(spec, relation, regions));

        if (spec.Background is { } background)
            checks.AddRange(CheckBackground(analysis, background, regions.Where(r => r is not null)!));

        return new Verdict(spec, checks, analysis.Background);
    }

    private JudgeCheck CheckPosition(string who, string what, ColorRegion r, ScenePosition position)
    {
        float lo = Settings.SideLimit, hi = 1 - Settings.SideLimit, m = Settings.MiddleRadius;
        (bool ok, string reason) = position switch
        {
            ScenePosition.Left => (r.CentroidX < lo, $"centroid x={r.CentroidX:0.00} {(r.CentroidX < lo ? "<" : "not <")} {lo:0.00} (left)"),
            ScenePosition.Right => (r.CentroidX > hi, $"centroid x={r.CentroidX:0.00} {(r.CentroidX > hi ? ">" : "not >")} {hi:0.00} (right)"),
            ScenePosition.Top => (r.CentroidY < lo, $"centroid y={r.CentroidY:0.00} {(r.CentroidY < lo ? "<" : "not <")} {lo:0.00} (top)"),
            ScenePosition.Bottom => (r.CentroidY > hi, $"centroid y={r.CentroidY:0.00} {(r.CentroidY > hi ? ">" : "not >")} {hi:0.00} (bottom)"),
            _ => (MathF.Abs(r.CentroidX - 0.5f) < m && MathF.Abs(r.CentroidY - 0.5f) < m,
                  $"centroid ({r.CentroidX:0.00},{r.CentroidY:0.00}) {(MathF.Abs(r.CentroidX - 0.5f) < m && MathF.Abs(r.CentroidY - 0.5f) < m ? "within" : "not within")} {m:0.00} of the centre"),
        };
        return new JudgeCheck($"{who}: position", ok ? CheckOutcome.Passed : CheckOutcome.Failed, $"{what} {reason}");
    }

    private JudgeCheck CheckSize(string who, ObjectKind kind, ColorRegion r, ObjectSize size)
    {
        // The extent a drawing of this kind with this many pixels would have (mass / the kind's
        // calibrated fill, square-rooted): independent of rotation and of stray outline pixels.
        float extent = MathF.Sqrt(r.PixelCount / AreaFactors.Value[(int)kind]) / r.Side;
        bool big = extent > Settings.SizeSplit;
        bool ok = big == (size == ObjectSize.Big);
        return new JudgeCheck($"{who}: size", ok ? CheckOutcome.Passed : CheckOutcome.Failed,
            $"equivalent extent {extent:0.00} {(big ? ">" : "<=")} {Settings.SizeSplit:0.00}: {(big ? "big" : "small")}");
    }

    private JudgeCheck CheckKind(string who, ObjectKind kind, float[] p)
    {
        int best = 0;
        for (int k = 1; k < p.Length; k++) if (p[k] > p[best]) best = k;
        float claimed = p[(int)kind];
        bool ok = best == (int)kind || claimed >= Settings.MinKindProbability;
        var top = (ObjectKind)best;
        return new JudgeCheck($"{who}: kind", ok ? CheckOutcome.Passed : CheckOutcome.Failed,
            ok ? $"looks like a {kind.Word()} (p={claimed:0.00})"
               : $"looks like a {top.Word()} (p={p[best]:0.00}), not a {kind.Word()} (p={claimed:0.00})");
    }

    private JudgeCheck CheckRelation(CaptionSpec spec, SpatialRelation relation, ColorRegion?[] regions)
    {
        string name = $"{spec.Objects[0].Kind.Word()} {relation.Phrase()} {spec.Objects[1].Kind.Word()}";
        if (regions[0] is not { } a || regions[1] is not { } b)
            return new JudgeCheck(name, CheckOutcome.Skipped, "an object is missing");
        if (spec.Objects[0].Color is null || spec.Objects[1].Color is null || spec.Objects[0].Color == spec.Objects[1].Color)
            return new JudgeCheck(name, CheckOutcome.Skipped, "the two objects need different colour words to be told apart");
        float margin = Settings.RelationMargin;
        string an = spec.Objects[0].Color!.Value.Word(), bn = spec.Objects[1].Color!.Value.Word();
        (bool ok, string reason) = relation switch
        {
            SpatialRelation.Above => (a.CentroidY < b.CentroidY - margin, $"{an} centroid y={a.CentroidY:0.00}, {bn} centroid y={b.CentroidY:0.00}"),
            SpatialRelation.Below => (a.CentroidY > b.CentroidY + margin, $"{an} centroid y={a.CentroidY:0.00}, {bn} centroid y={b.CentroidY:0.00}"),
            SpatialRelation.LeftOf => (a.CentroidX < b.CentroidX - margin, $"{an} centroid x={a.CentroidX:0.00}, {bn} centroid x={b.CentroidX:0.00}"),
            _ => (a.CentroidX > b.CentroidX + margin, $"{an} centroid x={a.CentroidX:0.00}, {bn} centroid x={b.CentroidX:0.00}"),
        };
        return new JudgeCheck(name, ok ? CheckOutcome.Passed : CheckOutcome.Failed,
            ok ? reason : $"{reason}: not {relation.Phrase()} by {margin:0.00}");
    }

    private IEnumerable<JudgeCheck> CheckBackground(ColorAnalysis analysis, SceneBackground background, IEnumerable<ColorRegion> objects)
    {
        var covered = objects.ToList();
        // The upper and lower parts are checked separately, away from the grass horizon (the band
        // round it is not checked): grass is sky above and grass below, every other background is
        // its colour in both, so "in the sky" does not pass on grass's sky half.
        var colors = Palette.ColorsOf(background);
        var (upper, lower) = (colors[0], colors[^1]);
        string Name(Palette.Rgb c) => c == Palette.Sky ? "sky" : c == Palette.Grass ? "grass" : background.ToString().ToLowerInvariant();
        var areas = new[]
        {
            ("upper part", 0f, SceneRenderer.Horizon - 0.1f, upper, Name(upper)),
            ("lower part", SceneRenderer.Horizon + 0.1f, 1f, lower, Name(lower)),
        };
        foreach (var (area, y0, y1, color, colorName) in areas)
        {
            var (fraction, uncovered) = analysis.BackgroundFraction(y0, y1, color, Settings.MatchDistance, covered);
            bool ok = uncovered > 0 && fraction >= Settings.MinBackgroundFraction;
            yield return new JudgeCheck($"background {background}", ok ? CheckOutcome.Passed : CheckOutcome.Failed,
                $"{colorName} colour on {Pct(fraction)} of the uncovered {area} {(ok ? ">=" : "<")} {Pct(Settings.MinBackgroundFraction)}");
        }
    }

    private static string Pct(float f) => $"{f * 100:0.#}%";

    /// <summary>Image tensor [3,H,W] or [1,3,H,W] to planar [3,64,64] floats (antialiased bilinear resize when needed).</summary>
    public static float[] ToPlanar64(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var shape = image.shape;
        bool batched = shape.Length == 4 && shape[0] == 1;
        if (!(shape.Length == 3 || batched) || shape[^3] != 3)
            throw new ArgumentException($"The judge takes an image tensor [3,H,W] or [1,3,H,W]; got [{string.Join(",", shape)}].", nameof(image));
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var x = image.detach().to(ScalarType.Float32, torch.CPU);
        if (!batched) x = x.unsqueeze(0);
        int side = ColorAnalysis.Side;
        if (x.shape[2] != side || x.shape[3] != side)
            x = nn.functional.interpolate(x, [side, side], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        return x.contiguous().data<float>().ToArray();
    }

    /// <summary>Coloured pixels of each kind drawn big on white, over the squared extent in pixels.</summary>
    private static float[] CalibrateAreaFactors()
    {
        var factors = new float[Vocabulary.Kinds.Length];
        foreach (var kind in Vocabulary.Kinds)
        {
            var spec = SceneSpec.Single(kind, ClipartColor.Red, ObjectSize.Big, ScenePosition.Middle, SceneBackground.White);
            var planar = SceneRenderer.RenderPlanar(spec);
            var region = ColorAnalysis.Analyze(planar, SceneBackground.White, JudgeSettings.Default).Region(ClipartColor.Red);
            float side = SceneLayout.BigExtent * SceneLayout.Size;
            factors[(int)kind] = region.PixelCount / (side * side);
        }
        return factors;
    }
}
