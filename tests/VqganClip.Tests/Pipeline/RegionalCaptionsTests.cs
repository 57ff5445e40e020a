using VqganClip.Guidance;

namespace VqganClip.Tests.Pipeline;

/// <summary>
/// <see cref="RegionalCaptions"/>: a caption of two things in a relation split into the captions of the picture's
/// halves, the scene phrase given to both, and which half each token of a grid belongs to.
/// </summary>
public sealed class RegionalCaptionsTests
{
    [Theory]
    [InlineData("a red circle above a blue square", "a red circle at the top", "a blue square at the bottom", RegionAxis.Rows)]
    [InlineData("a yellow star below a purple moon", "a purple moon at the top", "a yellow star at the bottom", RegionAxis.Rows)]
    [InlineData("a green tree to the left of a brown house", "a green tree on the left", "a brown house on the right", RegionAxis.Columns)]
    [InlineData("a pink heart to the right of a black circle", "a black circle on the left", "a pink heart on the right", RegionAxis.Columns)]
    [InlineData("a boat under a cloud", "a cloud at the top", "a boat at the bottom", RegionAxis.Rows)]
    [InlineData("a star over a house", "a star at the top", "a house at the bottom", RegionAxis.Rows)]
    [InlineData("a tree left of a boat", "a tree on the left", "a boat on the right", RegionAxis.Columns)]
    [InlineData("a big blue heart below a small red star", "a small red star at the top", "a big blue heart at the bottom", RegionAxis.Rows)]
    public void A_relation_splits_into_the_captions_of_the_two_halves(string caption, string first, string second, RegionAxis axis)
    {
        var split = RegionalCaptions.Split(caption);
        Assert.NotNull(split);
        Assert.Equal((first, second, axis), (split.First, split.Second, split.Axis));
        Assert.Equal([first, second], split.Captions);
    }

    [Theory]
    [InlineData("a white star above a yellow moon at night", "a white star at the top at night", "a yellow moon at the bottom at night")]
    [InlineData("a red flower to the left of a blue flower on grass", "a red flower on the left on grass", "a blue flower on the right on grass")]
    [InlineData("a red boat below a sun in the sky.", "a sun at the top in the sky", "a red boat at the bottom in the sky")]
    [InlineData("A drawing of a  red star   ABOVE a house against a night sky", "A drawing of a red star at the top against a night sky", "a house at the bottom against a night sky")]
    public void The_scene_phrase_after_the_second_thing_is_given_to_both_halves(string caption, string first, string second)
    {
        var split = RegionalCaptions.Split(caption);
        Assert.NotNull(split);
        Assert.Equal((first, second), (split.First, split.Second));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a red circle on the left")]                       // one thing
    [InlineData("a red circle and a blue square")]                 // no relation
    [InlineData("a red circle on the left above a blue square")]   // the first thing already placed
    [InlineData("a red circle above a blue square above a star")]  // three things
    [InlineData("above a blue square")]                            // no first thing
    [InlineData("a red circle above at night")]                    // no second thing before the scene phrase
    [InlineData("a hoverboard")]                                   // "over" inside a word is not a relation
    public void A_caption_that_is_not_two_things_in_one_relation_is_not_split(string? caption) =>
        Assert.Null(RegionalCaptions.Split(caption));

    [Fact]
    public void Rows_give_the_upper_half_of_the_rows_to_the_first_caption_in_raster_order()
    {
        var split = new RegionalCaptions("a", "b", RegionAxis.Rows);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], split.RegionOfTokens(2, 4));
        // an odd number of rows: the first half rounded down
        Assert.Equal([0, 0, 1, 1, 1, 1], split.RegionOfTokens(3, 2));
        var map = split.RegionOfTokens(16, 16);
        Assert.Equal(128, map.Count(r => r == 0));
        Assert.All(map.Take(128), r => Assert.Equal(0, r));
    }

    [Fact]
    public void Columns_give_the_left_half_of_every_row_to_the_first_caption()
    {
        var split = new RegionalCaptions("a", "b", RegionAxis.Columns);
        Assert.Equal([0, 0, 1, 1, 0, 0, 1, 1], split.RegionOfTokens(2, 4));
        Assert.Equal([0, 1, 1, 0, 1, 1], split.RegionOfTokens(2, 3));
    }

    [Fact]
    public void A_grid_without_two_halves_to_divide_is_refused_with_its_size_and_the_captions()
    {
        var rows = new RegionalCaptions("a red star at the top", "a house at the bottom", RegionAxis.Rows);
        var e = Assert.Throws<ArgumentException>(() => rows.RegionOfTokens(1, 8));
        Assert.Equal("A 1x8 token grid has no two halves of rows to give the captions 'a red star at the top' and 'a house at the bottom'.", e.Message);
        Assert.Equal([0, 1], new RegionalCaptions("a", "b", RegionAxis.Columns).RegionOfTokens(1, 2));
        Assert.Throws<ArgumentException>(() => new RegionalCaptions("a", "b", RegionAxis.Columns).RegionOfTokens(4, 1));
    }
}
