using VqganClip.Clipart;
using VqganClip.Clipart.Eval;
using VqganClip.Guidance;

namespace VqganClip.Training.Tests.Clipart;

/// <summary>
/// The transformer pipeline's split of a relation caption (<see cref="RegionalCaptions"/>, which reads English, not the
/// clipart grammar) against the clipart grammar: every half caption of a clipart pair caption is a one-object caption
/// the world's parser reads, with that object's words, at the place the relation gives it, on the same background.
/// </summary>
public sealed class RegionalCaptionsGrammarTests
{
    private static IEnumerable<string> Pairs => EvalPrompts.Fixed.Where(p => CaptionParser.Parse(p).Relation is not null);

    public static TheoryData<string> PairPrompts => [.. Pairs];

    [Fact]
    public void The_eval_has_sixteen_pair_prompts_and_every_one_is_split() =>
        Assert.Equal(16, Pairs.Count(p => RegionalCaptions.Split(p) is not null));

    [Theory]
    [MemberData(nameof(PairPrompts))]
    public void Each_half_is_one_object_of_the_pair_at_its_related_place_on_the_same_background(string prompt)
    {
        var spec = CaptionParser.Parse(prompt);
        var split = RegionalCaptions.Split(prompt)!;
        var (firstPlace, secondPlace) = SceneLayout.PositionsOf(spec.Relation!.Value);
        var expectedAxis = spec.Relation is SpatialRelation.Above or SpatialRelation.Below ? RegionAxis.Rows : RegionAxis.Columns;
        Assert.Equal(expectedAxis, split.Axis);

        // the object placed top or left goes to the first half
        bool firstObjectFirst = firstPlace is ScenePosition.Top or ScenePosition.Left;
        var (upper, lower) = firstObjectFirst ? (spec.Objects[0], spec.Objects[1]) : (spec.Objects[1], spec.Objects[0]);
        var (upperPlace, lowerPlace) = firstObjectFirst ? (firstPlace, secondPlace) : (secondPlace, firstPlace);
        foreach (var (caption, claim, place) in new[] { (split.First, upper, upperPlace), (split.Second, lower, lowerPlace) })
        {
            var half = CaptionParser.Parse(caption);
            Assert.Null(half.Relation);
            Assert.Equal(claim with { Position = place }, Assert.Single(half.Objects));
            Assert.Equal(spec.Background, half.Background);
        }
    }

    [Fact]
    public void The_one_object_prompts_are_not_split() =>
        Assert.All(EvalPrompts.Fixed.Where(p => CaptionParser.Parse(p).Objects.Count == 1), p => Assert.Null(RegionalCaptions.Split(p)));
}
