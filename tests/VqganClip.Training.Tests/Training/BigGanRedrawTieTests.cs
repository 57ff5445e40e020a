using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Training.BigGan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The clipart BigGAN trainer's redraw tie (<see cref="RedrawnScenes"/>, <see cref="BigGanTrainingOptions.RedrawTieWeight"/>):
/// a sample read back as the judge reads it and redrawn by the world with its class's kind.
/// </summary>
public class BigGanRedrawTieTests
{
    private static Tensor Pictures(IEnumerable<SceneSpec> specs) => ClipartBatches.Render(specs.ToArray(), 1) * 2 - 1;

    private static ColorRegion RegionOf(Tensor picture, ClipartColor colour) =>
        ColorAnalysis.Analyze(SceneJudge.ToPlanar64((picture + 1) / 2), null, JudgeSettings.Default).Region(colour);

    private static (double X, double Y, int Side) Box(ColorRegion r) =>
        ((r.BoxLeft + r.BoxRight) / 2.0, (r.BoxTop + r.BoxBottom) / 2.0, Math.Max(r.BoxRight - r.BoxLeft, r.BoxBottom - r.BoxTop) + 1);

    private static double IntersectionOverUnion(ColorRegion a, ColorRegion b)
    {
        int both = 0, either = 0;
        for (int p = 0; p < a.Mask.Length; p++)
        {
            if (a.Mask[p] && b.Mask[p]) both++;
            if (a.Mask[p] || b.Mask[p]) either++;
        }
        return either == 0 ? 0 : (double)both / either;
    }

    [Fact]
    public void A_world_drawing_read_back_is_redrawn_as_itself()
    {
        // every kind, both sizes, four places and four backgrounds, upright (the redraw does not read a rotation)
        var specs = Vocabulary.Kinds.SelectMany((kind, k) => Vocabulary.Sizes.Select((size, s) =>
        {
            var background = Vocabulary.Backgrounds[(k + s) % Vocabulary.Backgrounds.Length];
            var colour = Vocabulary.Colors.Where(c => !Palette.Clashes(c, background)).ElementAt(k % 4);
            return SceneSpec.Single(kind, colour, size, Vocabulary.Positions[(k + 2 * s) % Vocabulary.Positions.Length], background);
        })).ToArray();
        using var pictures = Pictures(specs);
        using var ids = tensor(specs.Select(s => (long)ClipartClasses.Id(s.Objects[0].Kind, s.Objects[0].Color)).ToArray());
        var (target, mask) = RedrawnScenes.Targets(pictures, ids, specs, 1);
        using (target)
        using (mask)
        {
            for (int i = 0; i < specs.Length; i++)
            {
                var o = specs[i].Objects[0];
                // the object redrawn where it was, as large: its box's centre within a pixel, its longer side within two
                // (a box is read to whole pixels, so the redrawn edges may sit a pixel off)
                var (b, a) = (Box(RegionOf(pictures[i], o.Color)), Box(RegionOf(target[i], o.Color)));
                Assert.True(Math.Abs(a.X - b.X) <= 1 && Math.Abs(a.Y - b.Y) <= 1 && Math.Abs(a.Side - b.Side) <= 2,
                    $"{o} on {specs[i].Background}: redrawn box {a} against {b}");
                // and the same silhouette up to that pixel (IoU 0.70 for a big boat, 0.74 for a small sun or moon, 1 for a square)
                Assert.True(IntersectionOverUnion(RegionOf(pictures[i], o.Color), RegionOf(target[i], o.Color)) > 0.65, $"{o} on {specs[i].Background}");
                // the mask covers the object and little else: between its area and its box with the antialiased fringe
                // (1 px) and the dilation (2 px) on every side
                var region = RegionOf(pictures[i], o.Color);
                double area = mask[i].sum().item<float>();
                Assert.InRange(area, region.PixelCount, (region.BoxRight - region.BoxLeft + 7) * (region.BoxBottom - region.BoxTop + 7));
            }
            Assert.True((target - pictures).abs().mean().item<float>() < 0.01);   // the backgrounds read back too
        }
    }

    [Fact]
    public void A_blob_is_redrawn_as_its_class_kind_where_it_is_and_no_blob_as_the_scene_the_noise_names()
    {
        // G drew a red circle at the left and a blank white picture; both were asked for a red star
        var circle = SceneSpec.Single(ObjectKind.Circle, ClipartColor.Red, ObjectSize.Big, ScenePosition.Left, SceneBackground.Sky);
        var named = SceneSpec.Single(ObjectKind.Star, ClipartColor.Red, ObjectSize.Small, ScenePosition.Bottom, SceneBackground.Grass);
        using var drawn = Pictures([circle, circle]);
        drawn[1].fill_(1);
        int star = ClipartClasses.Id(ObjectKind.Star, ClipartColor.Red);
        using var ids = tensor(new long[] { star, star });
        var (target, mask) = RedrawnScenes.Targets(drawn, ids, [named, named], 1);
        using (target)
        using (mask)
        {
            // the star's box has the circle's centre and longer side (the kind's calibration maps box to extent), on
            // the sky read back
            var before = RegionOf(drawn[0], ClipartColor.Red);
            var after = RegionOf(target[0], ClipartColor.Red);
            var (b, a) = (Box(before), Box(after));
            Assert.True(Math.Abs(a.X - b.X) <= 1.5 && Math.Abs(a.Y - b.Y) <= 1.5 && Math.Abs(a.Side - b.Side) <= 2, $"box {a} against the circle's {b}");
            Assert.True(after.PixelCount < 0.75 * before.PixelCount, $"a star fills less of its box than a circle: {after.PixelCount} against {before.PixelCount} pixels");
            // a star, not a circle: its silhouette is the world's star at that place
            using var starAtCircle = Pictures([SceneSpec.Single(ObjectKind.Star, ClipartColor.Red, ObjectSize.Big, ScenePosition.Left, SceneBackground.Sky)]);
            Assert.True(IntersectionOverUnion(after, RegionOf(starAtCircle[0], ClipartColor.Red)) > 0.7);   // 0.77: the boxes differ by a pixel
            Assert.True(IntersectionOverUnion(after, before) < 0.5);
            // the mask holds the circle's pixels, which the star leaves as sky
            Assert.True(mask[0].sum().item<float>() >= before.PixelCount);
            // nothing of the colour: the named scene, whole
            using var namedPicture = Pictures([named]);
            Assert.Equal(0f, (target[1] - namedPicture[0]).abs().max().item<float>());
        }
        var e = Assert.Throws<ArgumentException>(() => RedrawnScenes.Targets(zeros(2, 3, 32, 32), ids, [named, named]));
        Assert.Contains("[2, 3, 32, 32]", e.Message);
        e = Assert.Throws<ArgumentException>(() => RedrawnScenes.Targets(drawn, ids, [named]));
        Assert.Contains("1 scenes for 2 samples", e.Message);
    }

    [Fact]
    public void The_redraw_tie_waits_for_its_start_then_adds_its_L1() => SingleThreaded(() =>
    {
        var plainOptions = TinyStyleGan2D(steps: 3) with { ZDim = 16 };
        var options = plainOptions with { RedrawTieWeight = 5, RedrawTieStart = 1 };
        // before its start: the plain run's step, bit for bit; from its start: G's loss the plain one plus 5 times the term
        AssertTermWaitsForItsStartThenAdds(plainOptions, options, "g_redraw_tie", 5, 0.05, 2.0);

        var e = Assert.Throws<ArgumentException>(() => (options with { RedrawTieStart = 3 }).Validate());
        Assert.Contains("RedrawTieStart must be a step of the run, 0 to 2 (got 3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { RedrawTieWeight = double.NaN }).Validate());
        Assert.Contains("RedrawTieWeight", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { ZDim = 8 }).Validate());
        Assert.Contains("ZDim must be at least 16 (got 8)", e.Message);
    });
}
