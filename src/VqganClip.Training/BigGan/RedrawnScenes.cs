using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.BigGan;

/// <summary>
/// The redraw tie's targets (<see cref="BigGanTrainingOptions.RedrawTieWeight"/>): each of G's samples is read back
/// as the judge reads it (<see cref="ColorAnalysis"/>: the background, and the region of the class's colour), and
/// the world draws the class's kind there, at the place and size of that region. G's loss adds the L1 to this
/// picture over the drawn silhouette and G's own region, both dilated by 2 pixels, so G learns the outline of the
/// kind wherever it put the object. Nothing here asks G to move the object, nor to keep it where its noise says (the
/// scene tie's job): in the session-29 runs the objects drifted to the places G drew best.
/// <para>
/// The place and size are read from the region's bounding box through a per-kind calibration (how large and how
/// off-centre each kind's box is, measured once on the world's own drawings), so a world picture read back is redrawn
/// as itself, up to its rotation. The extent is clamped to the world's range (small −6% to big +6%): a speck or a
/// smear is redrawn at the nearest size the world draws. A sample with no region of its colour (under 12 pixels), or
/// on a background that swallows the colour, is redrawn as the scene its noise names (<see cref="NoiseScenes"/>).
/// </para>
/// </summary>
public static class RedrawnScenes
{
    /// <summary>Regions smaller than this many pixels are not read as the object.</summary>
    public const int MinRegionPixels = 12;

    private const int Side = SceneLayout.Size;

    // per kind: bounding-box side over extent, and the box centre's offset from the object's centre in extents
    private static readonly Lazy<Dictionary<ObjectKind, (float Ratio, float Dx, float Dy)>> Calibration = new(Calibrate);

    private static Dictionary<ObjectKind, (float, float, float)> Calibrate()
    {
        var result = new Dictionary<ObjectKind, (float, float, float)>();
        foreach (var kind in Vocabulary.Kinds)
        {
            var planar = SceneRenderer.RenderPlanar(SceneSpec.Single(kind, ClipartColor.Red, ObjectSize.Big, ScenePosition.Middle));
            var region = ColorAnalysis.Analyze(planar, SceneBackground.White, JudgeSettings.Default).Region(ClipartColor.Red);
            var (cx, cy, side) = Box(region);
            result[kind] = (side / (SceneLayout.BigExtent * Side), (cx - 0.5f) / SceneLayout.BigExtent, (cy - 0.5f) / SceneLayout.BigExtent);
        }
        return result;
    }

    // the bounding box's centre (fractions of the picture) and its longer side (pixels)
    private static (float Cx, float Cy, float Side) Box(ColorRegion r) =>
        ((r.BoxLeft + r.BoxRight + 1) / 2f / Side, (r.BoxTop + r.BoxBottom + 1) / 2f / Side,
         Math.Max(r.BoxRight - r.BoxLeft + 1, r.BoxBottom - r.BoxTop + 1));

    /// <summary>
    /// The redrawn scene of each sample and its mask: <paramref name="samples"/> [N, 3, 64, 64] in [−1, 1] (read
    /// detached), their classes [N], and the scenes their noise names (the fallback). Returns the redrawn pictures
    /// [N, 3, 64, 64] in [−1, 1] and the masks [N, 1, 64, 64] (1 on the dilated silhouette and region).
    /// </summary>
    public static (Tensor Target, Tensor Mask) Targets(Tensor samples, Tensor classIds, IReadOnlyList<SceneSpec> named, int renderThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(classIds);
        ArgumentNullException.ThrowIfNull(named);
        if (samples.dim() != 4 || samples.shape[1] != 3 || samples.shape[2] != Side || samples.shape[3] != Side)
            throw new ArgumentException($"Redrawing reads [N, 3, {Side}, {Side}] samples; got [{string.Join(", ", samples.shape)}].", nameof(samples));
        int n = (int)samples.shape[0];
        if (classIds.shape[0] != n || named.Count != n)
            throw new ArgumentException($"One class and one named scene per sample: got {classIds.shape[0]} classes and {named.Count} scenes for {n} samples.");
        using var scope = NewDisposeScope();
        var pictures = ((samples.detach() + 1) / 2).clamp(0, 1).cpu();
        var ids = classIds.cpu().data<long>().ToArray();
        var specs = new SceneSpec[n];
        var regions = new float[n * Side * Side];
        var calibration = Calibration.Value;
        for (int i = 0; i < n; i++)
        {
            var (kind, color) = ClipartClasses.Of((int)ids[i]);
            var analysis = ColorAnalysis.Analyze(SceneJudge.ToPlanar64(pictures[i]), null, JudgeSettings.Default);
            var region = analysis.Region(color);
            if (region.PixelCount < MinRegionPixels || Palette.Clashes(color, analysis.Background))
            {
                specs[i] = named[i];
                continue;
            }
            var (ratio, dx, dy) = calibration[kind];
            var (bx, by, side) = Box(region);
            float extent = Math.Clamp(side / Side / ratio,
                SceneLayout.SmallExtent * (1 - SceneSampler.ExtentJitter), SceneLayout.BigExtent * (1 + SceneSampler.ExtentJitter));
            var size = extent > (SceneLayout.SmallExtent + SceneLayout.BigExtent) / 2 ? ObjectSize.Big : ObjectSize.Small;
            // the position word is not drawn (the centre is); the named scene's keeps the spec well-formed
            specs[i] = new SceneSpec([new SceneObject(kind, color, size, named[i].Objects[0].Position, bx - dx * extent, by - dy * extent, extent)],
                null, analysis.Background);
            for (int p = 0; p < Side * Side; p++) if (region.Mask[p]) regions[i * Side * Side + p] = 1;
        }
        var target = ClipartBatches.Render(specs, renderThreads) * 2 - 1;
        // the silhouette: where the drawing changes when the object alone is drawn in a far colour
        var recoloured = specs.Select(s => new SceneSpec(s.Objects.Select(o => o with { Color = FarColour(o.Color) }).ToArray(), s.Relation, s.Background)).ToArray();
        var silhouette = ((target - (ClipartBatches.Render(recoloured, renderThreads) * 2 - 1)).abs().amax([1], keepdim: true) > 0.04).to(ScalarType.Float32);
        var mask = F.max_pool2d(maximum(silhouette, tensor(regions).reshape(n, 1, Side, Side)), 5, 1, 2);
        return (target.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    private static ClipartColor FarColour(ClipartColor c) => c switch
    {
        ClipartColor.White or ClipartColor.Yellow or ClipartColor.Pink or ClipartColor.Orange => ClipartColor.Black,
        _ => ClipartColor.White,
    };
}
