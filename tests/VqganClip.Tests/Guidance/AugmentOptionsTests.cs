using VqganClip.Guidance.Cutouts;

namespace VqganClip.Tests.Guidance;

public class AugmentOptionsTests
{
    [Fact]
    public void KeyValueListsChangeOnlyTheNamedSettings()
    {
        var defaults = new AugmentOptions();
        var changed = defaults.With(" flip=0, hue=0.05,noise=0.2 ");
        Assert.Equal(defaults with { FlipProbability = 0, Hue = 0.05, NoiseFactor = 0.2 }, changed);
        Assert.Equal(defaults, defaults.With(null));
        Assert.Equal(defaults, defaults.With("  "));
    }

    [Theory]
    [InlineData("flip", "is not KEY=NUMBER")]
    [InlineData("hue=abc", "'hue=abc' is not KEY=NUMBER")]
    [InlineData("hue=-1", "'hue=-1' is not KEY=NUMBER")]
    [InlineData("flip=1.5", "flip=1.5: a probability must be between 0 and 1")]
    [InlineData("blur=1", "key 'blur' is unknown; use one of: flip,")]
    public void BadItemsAreNamedInTheError(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new AugmentOptions().With(text));
        Assert.Contains(expected, e.Message);
    }
}
