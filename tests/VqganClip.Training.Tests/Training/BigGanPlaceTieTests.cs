using VqganClip.Clipart;
using VqganClip.Training.BigGan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The clipart BigGAN trainer's place tie (<see cref="PlaceTie"/>, <see cref="BigGanTrainingOptions.PlaceTieWeight"/>):
/// the class colour's soft centroid in G's sample pulled toward its centroid in the scene the noise names.
/// </summary>
public class BigGanPlaceTieTests
{
    private static Tensor Pictures01(params SceneSpec[] specs) => ClipartBatches.Render(specs, 1);

    private static Tensor Ids(params SceneSpec[] specs) =>
        tensor(specs.Select(s => (long)ClipartClasses.Id(s.Objects[0].Kind, s.Objects[0].Color)).ToArray());

    [Fact]
    public void The_centroid_is_where_the_world_drew_the_class_colour()
    {
        // symmetric kinds at every place, on backgrounds far from their colours: the centroid is the object's centre
        var specs = Vocabulary.Positions.Select((p, i) => SceneSpec.Single(i % 2 == 0 ? ObjectKind.Square : ObjectKind.Circle,
            i % 2 == 0 ? ClipartColor.Red : ClipartColor.Blue, ObjectSize.Small, p, i % 2 == 0 ? SceneBackground.White : SceneBackground.Grass)).ToArray();
        using var pictures = Pictures01(specs);
        using var ids = Ids(specs);
        using var centroids = PlaceTie.Centroids(pictures, ClipartClasses.PaletteColours(ids));
        for (int i = 0; i < specs.Length; i++)
        {
            var o = specs[i].Objects[0];
            Assert.Equal(o.CenterX, centroids[i, 0].item<float>(), 0.01);
            Assert.Equal(o.CenterY, centroids[i, 1].item<float>(), 0.01);
        }
        // the class colour, not any colour: a blue object's centroid under a red class's colour is the empty picture's (0, 0)
        using var redColour = ClipartClasses.PaletteColours(tensor(new long[] { ClipartClasses.Id(ObjectKind.Circle, ClipartColor.Red) }));
        using var none = PlaceTie.Centroids(pictures.narrow(0, 1, 1), redColour);
        Assert.True(none.abs().max().item<float>() < 0.01, none.ToString(TorchSharp.TensorStringStyle.Julia));
    }

    [Fact]
    public void The_term_is_the_mean_distance_between_the_two_places()
    {
        var left = SceneSpec.Single(ObjectKind.Heart, ClipartColor.Red, ObjectSize.Big, ScenePosition.Left, SceneBackground.Sky);
        var right = SceneSpec.Single(ObjectKind.Heart, ClipartColor.Red, ObjectSize.Big, ScenePosition.Right, SceneBackground.Sky);
        using var l = Pictures01(left);
        using var r = Pictures01(right);
        using var ids = Ids(left);
        using var same = PlaceTie.Term(l, l.clone(), ids);
        Assert.Equal(0f, same.item<float>());
        // only x differs, by 1 − 2 × 0.26 of the side; the term averages x and y
        using var moved = PlaceTie.Term(l, r, ids);
        Assert.Equal((1 - 2 * SceneLayout.SideOffset) / 2, moved.item<float>(), 0.01);
        // its gradient moves the sample's colour toward the named place: pixels descending it carry the red to the right
        using var sample = new TorchSharp.Modules.Parameter(l.clone());
        using var optimizer = optim.Adam([sample], 0.02);
        for (int step = 0; step < 40; step++)
        {
            using var _ = NewDisposeScope();
            optimizer.zero_grad();
            PlaceTie.Term(sample, r, ids).backward();
            optimizer.step();
        }
        using var after = PlaceTie.Term(sample.detach(), r, ids);
        using var colours = ClipartClasses.PaletteColours(ids);
        float xBefore = PlaceTie.Centroids(l, colours)[0, 0].item<float>(), xAfter = PlaceTie.Centroids(sample.detach(), colours)[0, 0].item<float>();
        Assert.True(after.item<float>() < 0.8 * moved.item<float>() && xAfter > xBefore + 0.1, $"term {moved.item<float>()} → {after.item<float>()}, centroid x {xBefore} → {xAfter}");

        var e = Assert.Throws<ArgumentException>(() => PlaceTie.Term(l, zeros(1, 3, 32, 32), ids));
        Assert.Contains("[1, 3, 64, 64] and [1, 3, 32, 32]", e.Message);
        e = Assert.Throws<ArgumentException>(() => PlaceTie.Term(l, r, tensor(new long[] { 0, 1 })));
        Assert.Contains("got 2 ids for 1 pictures", e.Message);
    }

    [Fact]
    public void The_place_tie_waits_for_its_start_then_adds_its_distance() => SingleThreaded(() =>
    {
        var plainOptions = TinyStyleGan2D(steps: 3) with { ZDim = 16 };
        var options = plainOptions with { PlaceTieWeight = 5, PlaceTieStart = 1 };
        // before its start: the plain run's step, bit for bit; from its start: G's loss the plain one plus 5 times the term
        AssertTermWaitsForItsStartThenAdds(plainOptions, options, "g_place_tie", 5, 0.01, 0.5);

        var e = Assert.Throws<ArgumentException>(() => (options with { PlaceTieStart = 3 }).Validate());
        Assert.Contains("PlaceTieStart must be a step of the run, 0 to 2 (got 3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { PlaceTieWeight = -1 }).Validate());
        Assert.Contains("PlaceTieWeight must be 0 or a positive number (got -1)", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { ZDim = 8 }).Validate());
        Assert.Contains("ZDim must be at least 16 (got 8)", e.Message);
    });
}
