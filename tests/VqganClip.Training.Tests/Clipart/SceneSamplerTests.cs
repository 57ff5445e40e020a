using VqganClip.Clipart;

namespace VqganClip.Training.Tests.Clipart;

public class SceneSamplerTests
{
    [Fact]
    public void Same_seed_gives_same_specs_captions_and_pixels()
    {
        var a = new SceneSampler(123);
        var b = new SceneSampler(123);
        for (int i = 0; i < 200; i++)
        {
            var (specA, captionA) = a.NextCaptioned();
            var (specB, captionB) = b.NextCaptioned();
            Assert.Equal(specA, specB);
            Assert.Equal(captionA, captionB);
            Assert.Equal(SceneRenderer.RenderRgb(specA), SceneRenderer.RenderRgb(specB));
        }
    }

    [Fact]
    public void Different_seeds_give_different_scenes()
    {
        var a = new SceneSampler(1).Sample(50).ToList();
        var b = new SceneSampler(2).Sample(50).ToList();
        Assert.True(a.Zip(b).Count(p => !p.First.Equals(p.Second)) > 45);
    }

    [Fact]
    public void Samples_cover_the_vocabulary_without_clashes_and_with_distinct_pair_colours()
    {
        var specs = new SceneSampler(7).Sample(3000).ToList();
        var objects = specs.SelectMany(s => s.Objects).ToList();
        Assert.Equal(Vocabulary.Kinds.Length, objects.Select(o => o.Kind).Distinct().Count());
        Assert.Equal(Vocabulary.Colors.Length, objects.Select(o => o.Color).Distinct().Count());
        Assert.Equal(Vocabulary.Positions.Length, objects.Select(o => o.Position).Distinct().Count());
        Assert.Equal(Vocabulary.Backgrounds.Length, specs.Select(s => s.Background).Distinct().Count());
        Assert.Equal(Vocabulary.Relations.Length, specs.Where(s => s.Relation.HasValue).Select(s => s.Relation).Distinct().Count());
        var pairs = specs.Count(s => s.Objects.Count == 2);
        Assert.InRange(pairs, 0.3 * specs.Count, 0.5 * specs.Count);

        foreach (var s in specs)
        {
            Assert.All(s.Objects, o => Assert.False(Palette.Clashes(o.Color, s.Background), $"{o.Color} on {s.Background}"));
            if (s.Objects.Count == 2) Assert.NotEqual(s.Objects[0].Color, s.Objects[1].Color);
            // The unit box of a drawing stays on the canvas (up to a pixel or two of a big jittered object).
            Assert.All(s.Objects, o =>
            {
                Assert.InRange(o.CenterX - o.Extent / 2, -0.03f, 1f);
                Assert.InRange(o.CenterX + o.Extent / 2, 0f, 1.03f);
                Assert.InRange(o.CenterY - o.Extent / 2, -0.03f, 1f);
                Assert.InRange(o.CenterY + o.Extent / 2, 0f, 1.03f);
            });
        }
    }

    [Fact]
    public void Palette_colours_are_perceptually_distinct()
    {
        var colors = Vocabulary.Colors;
        for (int i = 0; i < colors.Length; i++)
            for (int j = i + 1; j < colors.Length; j++)
                Assert.True(Palette.Of(colors[i]).ToLab().DistanceTo(Palette.Of(colors[j]).ToLab()) > 35,
                    $"{colors[i]} and {colors[j]} are too close");
        Assert.True(Palette.Clashes(ClipartColor.White, SceneBackground.White));
        Assert.True(Palette.Clashes(ClipartColor.Green, SceneBackground.Grass));
        Assert.False(Palette.Clashes(ClipartColor.Red, SceneBackground.White));
    }

    [Fact]
    public void Pair_factory_places_objects_as_the_relation_says()
    {
        var spec = SceneSpec.Pair((ObjectKind.Star, ClipartColor.Yellow, ObjectSize.Big), SpatialRelation.Below,
            (ObjectKind.House, ClipartColor.Blue, ObjectSize.Small), SceneBackground.Night);
        Assert.Equal(ScenePosition.Bottom, spec.Objects[0].Position);
        Assert.Equal(ScenePosition.Top, spec.Objects[1].Position);
        Assert.True(spec.Objects[0].CenterY > spec.Objects[1].CenterY);
        Assert.Throws<ArgumentException>(() => new SceneSpec([spec.Objects[0], spec.Objects[1]], null, SceneBackground.White));
        Assert.Throws<ArgumentException>(() => new SceneSpec([], null, SceneBackground.White));
    }
}
