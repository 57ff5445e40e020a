using VqganClip.Clipart;

namespace VqganClip.Training.Tests.Clipart;

public class CaptionTests
{
    [Fact]
    public void Captions_parse_back_to_claims_the_scene_satisfies()
    {
        var sampler = new SceneSampler(2024);
        for (int i = 0; i < 5000; i++)
        {
            var (spec, caption) = sampler.NextCaptioned();
            var parsed = CaptionParser.Parse(caption);
            Assert.Equal(caption, parsed.Text);
            Assert.Empty(parsed.Disagreements(spec));
            // The writer always names colour and kind of every object.
            Assert.Equal(spec.Objects.Count, parsed.Objects.Count);
            Assert.All(parsed.Objects, o => Assert.NotNull(o.Color));
            Assert.Equal(spec.Objects.Select(o => (o.Kind, o.Color)).OrderBy(x => x),
                         parsed.Objects.Select(o => (o.Kind, o.Color!.Value)).OrderBy(x => x));
        }
    }

    [Fact]
    public void Disagreements_name_what_a_caption_gets_wrong()
    {
        var spec = SceneSpec.Pair((ObjectKind.Star, ClipartColor.Yellow, ObjectSize.Big), SpatialRelation.Above,
            (ObjectKind.House, ClipartColor.Blue, ObjectSize.Small), SceneBackground.Night);
        Assert.Empty(CaptionParser.Parse("a yellow star above a blue house at night").Disagreements(spec));
        Assert.Empty(CaptionParser.Parse("a small blue house below a big yellow star").Disagreements(spec));
        Assert.Contains(CaptionParser.Parse("a yellow star below a blue house").Disagreements(spec), d => d.Contains("below"));
        Assert.Contains(CaptionParser.Parse("a yellow star above a blue house on sand").Disagreements(spec), d => d.Contains("Sand"));
        Assert.Contains(CaptionParser.Parse("a small yellow star above a blue house").Disagreements(spec), d => d.Contains("Big"));
        Assert.Contains(CaptionParser.Parse("a red star above a blue house").Disagreements(spec), d => d.Contains("red star"));
    }

    [Fact]
    public void Writer_varies_sizes_backgrounds_phrasing_and_sides()
    {
        var sampler = new SceneSampler(99);
        var captions = Enumerable.Range(0, 3000).Select(_ => sampler.NextCaptioned()).ToList();
        var parsed = captions.Select(c => (c.Spec, Parsed: CaptionParser.Parse(c.Caption))).ToList();
        Assert.Contains(parsed, p => p.Parsed.Objects.Any(o => o.Size is null));
        Assert.Contains(parsed, p => p.Parsed.Objects.Any(o => o.Size is not null));
        Assert.Contains(parsed, p => p.Parsed.Background is null);
        Assert.Contains(parsed, p => p.Parsed.Background is not null);
        Assert.Contains(parsed, p => p.Spec.Objects.Count == 2 && p.Parsed.Relation is null); // "A on the left and B on the right"
        Assert.Contains(parsed, p => p.Parsed.Relation is { } r && r != p.Spec.Relation); // said from the other side
        Assert.Contains(captions, c => c.Caption.Contains(" of a white background") || c.Caption.Contains(" of the sky"));
        Assert.True(captions.Select(c => c.Caption).Distinct().Count() > 2500);
    }

    [Fact]
    public void Parses_the_documented_examples()
    {
        var a = CaptionParser.Parse("a big red circle on the left");
        Assert.Equal([new ObjectClaim(ObjectKind.Circle, ClipartColor.Red, ObjectSize.Big, ScenePosition.Left)], a.Objects);
        Assert.Null(a.Relation);
        Assert.Null(a.Background);

        var b = CaptionParser.Parse("a yellow star above a blue house at night");
        Assert.Equal(new ObjectClaim(ObjectKind.Star, ClipartColor.Yellow), b.Objects[0]);
        Assert.Equal(new ObjectClaim(ObjectKind.House, ClipartColor.Blue), b.Objects[1]);
        Assert.Equal(SpatialRelation.Above, b.Relation);
        Assert.Equal(SceneBackground.Night, b.Background);

        var c = CaptionParser.Parse("A green tree, to the right of a brown boat on sand.");
        Assert.Equal(SpatialRelation.RightOf, c.Relation);
        Assert.Equal(ClipartColor.Brown, c.Objects[1].Color);
        Assert.Equal(SceneBackground.Sand, c.Background);

        var d = CaptionParser.Parse("a small pink heart in the middle of a white background");
        Assert.Equal(new ObjectClaim(ObjectKind.Heart, ClipartColor.Pink, ObjectSize.Small, ScenePosition.Middle), d.Objects[0]);
        Assert.Equal(SceneBackground.White, d.Background);

        var e = CaptionParser.Parse("a drawing of a star at the top");
        Assert.Equal(new ObjectClaim(ObjectKind.Star, null, null, ScenePosition.Top), e.Objects[0]);

        var f = CaptionParser.Parse("an orange moon at the top and a purple boat at the bottom on the beach");
        Assert.Equal(ScenePosition.Top, f.Objects[0].Position);
        Assert.Equal(ScenePosition.Bottom, f.Objects[1].Position);
        Assert.Null(f.Relation);
        Assert.Equal(SceneBackground.Sand, f.Background);
    }

    [Theory]
    [InlineData("a red dragon on the left", 2, 6, "dragon", "object kind")]
    [InlineData("a red circle on the left quickly", 6, 25, "quickly", "background")]
    [InlineData("a red circle on the left on the right", 6, 25, "on", "already has a position")]
    [InlineData("a red circle above a blue star above a green moon", 7, 31, "above", "at most two objects")]
    [InlineData("a red circle at night on sand", 5, 22, "on", "background was already given")]
    [InlineData("a purple", 2, 8, null, "object kind")]
    [InlineData("", 0, 0, null, "empty")]
    [InlineData("in the middle of nowhere a circle", 0, 0, "in", "colour")]
    public void Unparsable_prompts_say_which_word_and_where(string prompt, int wordIndex, int charIndex, string? word, string expected)
    {
        var e = Assert.Throws<CaptionParseException>(() => CaptionParser.Parse(prompt));
        Assert.Equal(wordIndex, e.WordIndex);
        Assert.Equal(charIndex, e.CharIndex);
        Assert.Equal(word, e.Word);
        Assert.Contains(expected, e.Message);
        Assert.Contains(prompt, e.Message);
        if (word is not null) Assert.Contains($"'{word}' at character {charIndex}", e.Message);
        Assert.False(CaptionParser.TryParse(prompt, out var spec, out var error));
        Assert.Null(spec);
        Assert.Equal(e.Message, error!.Message);
    }

    [Fact]
    public void Caption_spec_renders_its_canonical_scene()
    {
        var spec = CaptionParser.Parse("a white star above a yellow moon at night").ToSceneSpec();
        Assert.Equal(SceneBackground.Night, spec.Background);
        Assert.Equal(SpatialRelation.Above, spec.Relation);
        Assert.Equal((ObjectKind.Star, ClipartColor.White, ScenePosition.Top), (spec.Objects[0].Kind, spec.Objects[0].Color, spec.Objects[0].Position));

        var colourless = CaptionParser.Parse("a circle on grass").ToSceneSpec();
        Assert.False(Palette.Clashes(colourless.Objects[0].Color, SceneBackground.Grass));
        Assert.Equal(ScenePosition.Middle, colourless.Objects[0].Position);

        var byPositions = CaptionParser.Parse("a red circle on the right and a blue star on the left").ToSceneSpec();
        Assert.Equal(SpatialRelation.RightOf, byPositions.Relation);
    }
}
