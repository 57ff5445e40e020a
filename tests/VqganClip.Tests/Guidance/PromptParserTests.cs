using VqganClip.Guidance.Prompts;

namespace VqganClip.Tests.Guidance;

public class PromptParserTests
{
    private static PromptSpec One(string s) => Assert.Single(Assert.Single(PromptParser.Parse(s).Phases));

    [Fact]
    public void PlainTextHasDefaultWeightAndNoStop()
    {
        var p = One("a red rose");
        Assert.Equal("a red rose", p.Text);
        Assert.Equal(1.0, p.Weight);
        Assert.True(double.IsNegativeInfinity(p.Stop));
        Assert.Equal(PromptSource.Text, p.Source);
    }

    [Theory]
    [InlineData("a red rose:1.5", "a red rose", 1.5, double.NegativeInfinity)]
    [InlineData("a red rose:-0.5", "a red rose", -0.5, double.NegativeInfinity)]
    [InlineData("rose:2:0.3", "rose", 2, 0.3)]
    [InlineData("rose:1e-2:-inf", "rose", 0.01, double.NegativeInfinity)]
    [InlineData("  padded  :3 ", "padded", 3, double.NegativeInfinity)]
    [InlineData("Title: subtitle", "Title: subtitle", 1, double.NegativeInfinity)]
    [InlineData("Title: subtitle:0.5", "Title: subtitle", 0.5, double.NegativeInfinity)]
    [InlineData("https://example.com/a.png", "https://example.com/a.png", 1, double.NegativeInfinity)]
    [InlineData("https://example.com/a.png:0.5", "https://example.com/a.png", 0.5, double.NegativeInfinity)]
    [InlineData(@"C:\art\a.png:0.5", @"C:\art\a.png", 0.5, double.NegativeInfinity)]
    [InlineData(@"time 10\:30:2", "time 10:30", 2, double.NegativeInfinity)]
    [InlineData("a:1:2:3", "a:1", 2, 3)]
    public void WeightsAndStopsAreReadFromTheRight(string input, string text, double weight, double stop)
    {
        var p = One(input);
        Assert.Equal(text, p.Text);
        Assert.Equal(weight, p.Weight);
        Assert.Equal(stop, p.Stop);
    }

    [Fact]
    public void PipesSeparatePromptsAndCaretsSeparatePhases()
    {
        var s = PromptParser.Parse("a cat:1 | a dog:-0.5 ^ a city \\| at night ^ snow\\^2");
        Assert.Equal(3, s.Phases.Count);
        Assert.Equal(new[] { "a cat", "a dog" }, s.Phases[0].Select(p => p.Text));
        Assert.Equal(-0.5, s.Phases[0][1].Weight);
        Assert.Equal("a city | at night", Assert.Single(s.Phases[1]).Text);
        Assert.Equal("snow^2", Assert.Single(s.Phases[2]).Text);
        Assert.Equal(0, s.PhaseAt(9, 10));
        Assert.Equal(1, s.PhaseAt(10, 10));
        Assert.Equal(2, s.PhaseAt(25, 10));
        Assert.Equal(0, s.PhaseAt(30, 10)); // loops
        Assert.Equal(0, s.PhaseAt(1000, 0)); // 0: never switch
    }

    [Fact]
    public void ColumnsPointIntoTheOriginalString()
    {
        var s = PromptParser.Parse("ab | cd");
        Assert.Equal(1, s.Phases[0][0].Column);
        Assert.Equal(6, s.Phases[0][1].Column);
    }

    [Theory]
    [InlineData("", 1, "The prompt is empty")]
    [InlineData("   ", 1, "The prompt is empty")]
    [InlineData("a rose:abc", 8, "Weight 'abc' is not a number")]
    [InlineData("a rose:1.2.3", 8, "Weight '1.2.3' is not a number")]
    [InlineData("a rose:1:x", 10, "Stop 'x' is not a number")]
    [InlineData("a rose:", 7, "Weight after ':' is empty")]
    [InlineData("a rose::0.5", 7, "Weight after ':' is empty")]
    [InlineData("a||b", 3, "Prompt 2 is empty")]
    [InlineData("a|", 2, "Prompt 2 is empty")]
    [InlineData("|a", 1, "Prompt 1 is empty")]
    [InlineData("a ^^ b", 4, "Story phase 2 is empty")]
    [InlineData(":1.5", 1, "Prompt text is empty before ':'")]
    [InlineData("rose:inf", 6, "Weight 'inf' must be a finite number")]
    [InlineData("rose:-inf", 6, "Weight '-inf' must be a finite number")]
    [InlineData("rose:nan", 6, "Weight 'nan' is not a number")]
    [InlineData("rose:1:inf", 8, "Stop 'inf' must be finite or -inf")]
    [InlineData("a cat|a rose:1,5", 14, "Weight '1,5' is not a number")]
    public void MalformedPromptsSayWhereAndWhy(string input, int column, string problem)
    {
        var e = Assert.Throws<PromptParseException>(() => PromptParser.Parse(input));
        Assert.Equal(column, e.Column);
        Assert.StartsWith(problem, e.Problem);
        Assert.Contains($"(column {column})", e.Message);
        Assert.Contains(new string(' ', column - 1) + "^", e.Message); // caret under the column
    }

    [Fact]
    public void ImageAndNoisePromptsHaveTheirOwnParsers()
    {
        var img = PromptParser.ParseImage(@"C:\pics\cat.png:0.5");
        Assert.Equal(PromptSource.Image, img.Source);
        Assert.Equal(@"C:\pics\cat.png", img.Text);
        Assert.Equal(0.5, img.Weight);

        var noise = PromptParser.ParseNoise("42:-0.25");
        Assert.Equal(PromptSource.Noise, noise.Source);
        Assert.Equal(42, noise.NoiseSeed);
        Assert.Equal(-0.25, noise.Weight);

        var e = Assert.Throws<PromptParseException>(() => PromptParser.ParseNoise("forty:1"));
        Assert.StartsWith("Noise seed 'forty' is not an integer", e.Problem);
        e = Assert.Throws<PromptParseException>(() => PromptParser.ParseNoise("42:1:0.5"));
        Assert.StartsWith("A noise prompt takes a seed and a weight only", e.Problem);
        e = Assert.Throws<PromptParseException>(() => PromptParser.ParseImage(""));
        Assert.StartsWith("The image prompt is empty", e.Problem);
    }

    [Theory]
    [InlineData("a red rose")]
    [InlineData("a: b|c^d")]
    [InlineData(@"C:\x\y.png")]
    public void FormattingRoundTrips(string text)
    {
        foreach (var spec in new[] { PromptSpec.FromText(text), PromptSpec.FromText(text, -0.5), PromptSpec.FromText(text, 2, 0.25) })
        {
            var back = PromptParser.ParseOne(spec.ToString());
            Assert.Equal(spec.Text, back.Text);
            Assert.Equal(spec.Weight, back.Weight);
            Assert.Equal(spec.Stop, back.Stop);
        }
    }
}
