using VqganClip.Guidance;

namespace VqganClip.Tests.Pipeline;

/// <summary><see cref="CaptionLayout"/>: the place and the size a one-thing caption gives its thing.</summary>
public sealed class CaptionLayoutTests
{
    [Theory]
    [InlineData("a red circle on the left", 0.25, 0.5)]
    [InlineData("a red circle to the left", 0.25, 0.5)]
    [InlineData("a blue square on the right on grass", 0.75, 0.5)]
    [InlineData("a yellow star at the top in the sky", 0.5, 0.25)]
    [InlineData("A Small White Cloud At The Top", 0.5, 0.25)]
    [InlineData("a green triangle at the bottom on sand", 0.5, 0.75)]
    [InlineData("a purple heart in the middle", 0.5, 0.5)]
    [InlineData("a brown house on grass", 0.5, 0.5)]
    [InlineData("a red heart in the middle of a white background", 0.5, 0.5)]
    [InlineData("the leftmost star", 0.5, 0.5)]
    public void The_place_is_the_centre_of_the_named_part(string caption, double x, double y) =>
        Assert.Equal((x, y), CaptionLayout.PlaceOf(caption));

    [Theory]
    [InlineData("a small red heart on the right", ThingSize.Small)]
    [InlineData("a little star", ThingSize.Small)]
    [InlineData("a TINY boat at night", ThingSize.Small)]
    [InlineData("a big yellow sun in the middle", ThingSize.Big)]
    [InlineData("a large tree", ThingSize.Big)]
    [InlineData("a huge moon", ThingSize.Big)]
    [InlineData("a red circle on the left", ThingSize.Unsaid)]
    [InlineData("a smallish bigger house", ThingSize.Unsaid)]
    public void The_size_word_is_read(string caption, ThingSize size) => Assert.Equal(size, CaptionLayout.SizeOf(caption));

    [Theory]
    [InlineData("a red circle on the left", "a red circle in the middle")]
    [InlineData("a small red heart to the right on grass", "a small red heart in the middle on grass")]
    [InlineData("A yellow star At The Top in the sky", "A yellow star in the middle in the sky")]
    [InlineData("a green triangle at the bottom", "a green triangle in the middle")]
    [InlineData("a brown house on grass", "a brown house on grass")]
    [InlineData("a purple heart in the middle", "a purple heart in the middle")]
    public void The_place_phrase_is_said_as_the_middle(string caption, string asked)
    {
        Assert.Equal(asked, CaptionLayout.InTheMiddle(caption));
        Assert.Equal((0.5, 0.5), CaptionLayout.PlaceOf(CaptionLayout.InTheMiddle(caption)));
    }
}
