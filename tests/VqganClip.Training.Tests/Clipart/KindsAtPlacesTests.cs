using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using Xunit.Abstractions;

namespace VqganClip.Training.Tests.Clipart;

/// <summary>The judge's colour-blind kind check (SceneJudge.KindsAtPlaces), used to grade pix2pix colourings.</summary>
public class KindsAtPlacesTests(ITestOutputHelper output)
{
    private static List<(SceneSpec Spec, string Caption)> Scenes(int seed, int count)
    {
        var sampler = new SceneSampler(seed);
        return Enumerable.Range(0, count).Select(_ => sampler.NextCaptioned()).ToList();
    }

    /// <summary>Every pixel of the objects' own palette colours painted in one off-palette teal (no palette or background colour is near it).</summary>
    private static float[] PaintedTeal(SceneSpec spec)
    {
        var image = SceneRenderer.RenderPlanar(spec);
        int n = image.Length / 3;
        var colours = spec.Objects.Select(o => Palette.Of(o.Color)).ToList();
        for (int i = 0; i < n; i++)
        {
            bool objectPixel = colours.Any(c =>
                MathF.Abs(image[i] - c.R / 255f) < 0.02f && MathF.Abs(image[n + i] - c.G / 255f) < 0.02f && MathF.Abs(image[2 * n + i] - c.B / 255f) < 0.02f);
            if (!objectPixel) continue;
            (image[i], image[n + i], image[2 * n + i]) = (0.0f, 0.55f, 0.55f);
        }
        return image;
    }

    private static double Rate(IEnumerable<bool[]> verdicts) => verdicts.Average(v => v.All(ok => ok) ? 1.0 : 0.0);

    [Fact]
    public void Recognises_the_kinds_of_rendered_scenes_in_their_own_and_in_an_off_palette_colour()
    {
        var judge = ClipartTestData.Judge;
        var scenes = Scenes(ClipartTestData.HeldOutSeed + 7, 200);
        double own = Rate(scenes.Select(s => judge.KindsAtPlaces(SceneRenderer.RenderPlanar(s.Spec), s.Spec)));
        double painted = Rate(scenes.Select(s => judge.KindsAtPlaces(PaintedTeal(s.Spec), s.Spec)));
        // The colour judge fails the painted scenes for their captions when they name a colour: the colours are gone.
        var named = scenes.Where(s => CaptionParser.Parse(s.Caption).Objects.Any(o => o.Color is not null)).ToList();
        double colourJudge = named.Average(s => judge.Judge(PaintedTeal(s.Spec), CaptionParser.Parse(s.Caption)).Satisfied ? 1.0 : 0.0);
        output.WriteLine($"kinds at places: own colours {own:P1}, teal {painted:P1}; the colour judge accepts {colourJudge:P1} of the teal ones");
        Assert.True(own >= 0.95, $"own colours: {own:P1}");
        Assert.True(painted >= 0.9, $"teal: {painted:P1}");
        Assert.True(colourJudge <= 0.1, $"colour judge on teal: {colourJudge:P1}");
    }

    [Fact]
    public void Refuses_other_kinds_at_the_same_places_and_an_empty_picture()
    {
        var judge = ClipartTestData.Judge;
        var scenes = Scenes(ClipartTestData.HeldOutSeed + 8, 200);
        var kinds = Vocabulary.Kinds;
        // Claim the next kind for every object: same places, same colours, wrong shapes.
        double swapped = Rate(scenes.Select(c =>
        {
            var s = c.Spec;
            var claimed = new SceneSpec(s.Objects.Select(o => o with { Kind = kinds[((int)o.Kind + 1) % kinds.Length] }).ToList(), s.Relation, s.Background);
            return judge.KindsAtPlaces(SceneRenderer.RenderPlanar(s), claimed);
        }));
        output.WriteLine($"wrong kinds accepted: {swapped:P1}");
        Assert.True(swapped <= 0.15, $"wrong kinds accepted: {swapped:P1}");

        // A picture of the sky alone: nothing at any place.
        int n = SceneLayout.Size * SceneLayout.Size;
        var blank = new float[3 * n];
        Array.Fill(blank, Palette.Sky.R / 255f, 0, n);
        Array.Fill(blank, Palette.Sky.G / 255f, n, n);
        Array.Fill(blank, Palette.Sky.B / 255f, 2 * n, n);
        Assert.All(judge.KindsAtPlaces(blank, scenes[0].Spec), ok => Assert.False(ok));
        var ex = Assert.Throws<InvalidOperationException>(() => new SceneJudge().KindsAtPlaces(blank, scenes[0].Spec));
        Assert.Contains("classifier", ex.Message);
    }
}
