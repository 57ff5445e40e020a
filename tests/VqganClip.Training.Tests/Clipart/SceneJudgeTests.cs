using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace VqganClip.Training.Tests.Clipart;

public class SceneJudgeTests(ITestOutputHelper output)
{
    /// <summary>500 held-out scenes with their own captions (a seed no training run uses).</summary>
    private static List<(SceneSpec Spec, CaptionSpec Caption, float[] Image)> HeldOut(int seed, int count)
    {
        var sampler = new SceneSampler(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var (spec, caption) = sampler.NextCaptioned();
            return (spec, CaptionParser.Parse(caption), SceneRenderer.RenderPlanar(spec));
        }).ToList();
    }

    [Fact]
    public void Accepts_rendered_scenes_for_their_own_captions()
    {
        var judge = ClipartTestData.Judge;
        var samples = HeldOut(ClipartTestData.HeldOutSeed, 500);
        int accepted = 0;
        foreach (var (_, caption, image) in samples)
        {
            var verdict = judge.Judge(image, caption);
            if (verdict.Satisfied) accepted++;
            else output.WriteLine(verdict.ToString());
            Assert.Contains(verdict.Checks, c => c.Name.EndsWith("kind") && c.Outcome != CheckOutcome.Skipped);
        }
        double rate = accepted / 500.0;
        output.WriteLine($"accepted {rate:P1} of 500 held-out scenes");
        Assert.True(rate >= 0.95, $"judge accepted only {rate:P1} of correct scenes");
    }

    [Fact]
    public void Kinds_right_needs_every_kind_check_passed_not_skipped()
    {
        var judge = ClipartTestData.Judge;
        var spec = SceneSpec.Single(ObjectKind.Heart, ClipartColor.Red, ObjectSize.Big, ScenePosition.Middle, SceneBackground.White);
        var image = SceneRenderer.RenderPlanar(spec);
        var own = CaptionParser.Parse("a big red heart in the middle");

        var right = judge.Judge(image, own);
        Assert.True(right.KindsRight, right.ToString());

        // Another kind: the kind check fails, though colour and place still pass.
        var star = judge.Judge(image, CaptionParser.Parse("a big red star in the middle"));
        Assert.Contains(star.Checks, c => c.Name.EndsWith(": kind") && c.Outcome == CheckOutcome.Failed);
        Assert.False(star.KindsRight);

        // A colour that is not drawn: nothing to classify, the kind check is skipped, and that is not "right".
        var blue = judge.Judge(image, CaptionParser.Parse("a big blue heart in the middle"));
        Assert.Contains(blue.Checks, c => c.Name.EndsWith(": kind") && c.Outcome == CheckOutcome.Skipped);
        Assert.False(blue.KindsRight);
    }

    [Fact]
    public void Rejects_captions_with_a_swapped_colour_position_kind_relation_or_background()
    {
        var judge = ClipartTestData.Judge;
        var random = new Random(5);
        var samples = HeldOut(ClipartTestData.HeldOutSeed + 1, 300);
        var tried = new Dictionary<string, int>();
        var rejected = new Dictionary<string, int>();
        void Try(string what, float[] image, CaptionSpec wrong)
        {
            tried[what] = tried.GetValueOrDefault(what) + 1;
            var verdict = judge.Judge(image, wrong);
            if (!verdict.Satisfied) rejected[what] = rejected.GetValueOrDefault(what) + 1;
            else output.WriteLine($"{what} accepted: {verdict}");
        }

        foreach (var (spec, caption, image) in samples)
        {
            var objects = caption.Objects.ToList();
            int k = random.Next(objects.Count);
            var drawn = spec.Objects.Select(o => o.Color).ToHashSet();
            var otherColors = Vocabulary.Colors.Where(c => !drawn.Contains(c) && !Palette.Clashes(c, spec.Background)).ToArray();
            var swapped = objects.ToList();
            swapped[k] = objects[k] with { Color = otherColors[random.Next(otherColors.Length)] };
            Try("colour", image, new CaptionSpec(caption.Text, swapped, caption.Relation, caption.Background));

            var otherKinds = Vocabulary.Kinds.Where(x => x != objects[k].Kind).ToArray();
            swapped = objects.ToList();
            swapped[k] = objects[k] with { Kind = otherKinds[random.Next(otherKinds.Length)] };
            Try("kind", image, new CaptionSpec(caption.Text, swapped, caption.Relation, caption.Background));

            if (objects.Count == 1)
            {
                var otherPositions = Vocabulary.Positions.Where(p => p != spec.Objects[0].Position).ToArray();
                Try("position", image, new CaptionSpec(caption.Text,
                    [objects[0] with { Position = otherPositions[random.Next(otherPositions.Length)] }], null, caption.Background));
            }
            if (caption.Relation is { } relation)
                Try("relation", image, new CaptionSpec(caption.Text, objects, relation.Inverse(), caption.Background));

            var otherBackgrounds = Vocabulary.Backgrounds
                .Where(b => b != spec.Background && spec.Objects.All(o => !Palette.Clashes(o.Color, b))).ToArray();
            Try("background", image, new CaptionSpec(caption.Text, objects, caption.Relation, otherBackgrounds[random.Next(otherBackgrounds.Length)]));
        }

        foreach (var (what, n) in tried)
        {
            double rate = rejected.GetValueOrDefault(what) / (double)n;
            output.WriteLine($"{what}: rejected {rate:P1} of {n}");
            Assert.True(rate >= (what == "kind" ? 0.95 : 0.98), $"swapped {what} rejected only {rate:P1} of {n}");
        }
        Assert.Equal(5, tried.Count);
    }

    [Fact]
    public void Size_claims_are_checked_from_the_colour_mass()
    {
        var judge = new SceneJudge();
        int wrongBig = 0, wrongSmall = 0, n = 0;
        foreach (var kind in Vocabulary.Kinds)
            foreach (var position in Vocabulary.Positions)
            {
                var small = SceneRenderer.RenderPlanar(SceneSpec.Single(kind, ClipartColor.Purple, ObjectSize.Small, position, SceneBackground.Sand));
                var big = SceneRenderer.RenderPlanar(SceneSpec.Single(kind, ClipartColor.Purple, ObjectSize.Big, position, SceneBackground.Sand));
                var claimBig = new CaptionSpec("t", [new ObjectClaim(kind, ClipartColor.Purple, ObjectSize.Big)], null, null);
                var claimSmall = new CaptionSpec("t", [new ObjectClaim(kind, ClipartColor.Purple, ObjectSize.Small)], null, null);
                Assert.True(judge.Judge(big, claimBig).Satisfied, $"big {kind} {position}");
                Assert.True(judge.Judge(small, claimSmall).Satisfied, $"small {kind} {position}");
                if (judge.Judge(small, claimBig).Satisfied) wrongBig++;
                if (judge.Judge(big, claimSmall).Satisfied) wrongSmall++;
                n++;
            }
        Assert.Equal(0, wrongBig);
        Assert.Equal(0, wrongSmall);
    }

    [Fact]
    public void Failed_checks_give_measured_reasons()
    {
        var judge = ClipartTestData.Judge;
        var image = SceneRenderer.RenderPlanar(SceneSpec.Single(ObjectKind.Circle, ClipartColor.Red, ObjectSize.Big, ScenePosition.Right));

        var left = judge.Judge(image, CaptionParser.Parse("a red circle on the left"));
        Assert.False(left.Satisfied);
        var position = Assert.Single(left.Failures);
        Assert.Matches(@"centroid x=0\.7\d not < 0\.40 \(left\)", position.Reason);

        var blue = judge.Judge(image, CaptionParser.Parse("a blue circle on the right"));
        Assert.Contains(blue.Failures, f => f.Reason.StartsWith("blue mass 0% < 0.8%"));
        Assert.Contains(blue.Checks, c => c.Name.EndsWith("position") && c.Outcome == CheckOutcome.Skipped);

        var star = judge.Judge(image, CaptionParser.Parse("a red star on the right"));
        Assert.Contains(star.Failures, f => f.Reason.StartsWith("looks like a circle") && f.Reason.Contains("not a star"));

        var night = judge.Judge(image, CaptionParser.Parse("a red circle at night"));
        Assert.Contains(night.Failures, f => f.Name.StartsWith("background") && f.Reason.StartsWith("night colour on 0% of the uncovered upper part < 60%"));

        Assert.True(judge.Judge(image, CaptionParser.Parse("a big red circle on the right on a white background")).Satisfied);
    }

    [Fact]
    public void Judges_tensors_of_any_size()
    {
        var judge = ClipartTestData.Judge;
        var spec = SceneSpec.Pair((ObjectKind.Sun, ClipartColor.Yellow, ObjectSize.Big), SpatialRelation.Above,
            (ObjectKind.Boat, ClipartColor.Brown, ObjectSize.Big), SceneBackground.Sky);
        using var large = SceneRenderer.RenderTensor(spec, 256);
        Assert.True(judge.Judge(large, "a yellow sun above a brown boat in the sky").Satisfied);
        using var batched = SceneRenderer.RenderTensor(spec, 96).unsqueeze(0);
        Assert.True(judge.Judge(batched, "a big yellow sun above a big brown boat").Satisfied);
        Assert.False(judge.Judge(large, "a yellow sun below a brown boat").Satisfied);

        using var wrong = zeros(2, 3, 64, 64);
        var e = Assert.Throws<ArgumentException>(() => judge.Judge(wrong, "a red circle"));
        Assert.Contains("[2,3,64,64]", e.Message);
        using var gray = zeros(1, 64, 64);
        Assert.Throws<ArgumentException>(() => judge.Judge(gray, "a red circle"));
    }

    [Fact]
    public void Without_a_classifier_kind_checks_are_skipped_not_passed()
    {
        var judge = new SceneJudge();
        var image = SceneRenderer.RenderPlanar(SceneSpec.Single(ObjectKind.Circle, ClipartColor.Red, ObjectSize.Big, ScenePosition.Middle));
        var verdict = judge.Judge(image, CaptionParser.Parse("a red star in the middle"));
        Assert.True(verdict.Satisfied);
        Assert.Contains(verdict.Checks, c => c.Name.EndsWith("kind") && c.Outcome == CheckOutcome.Skipped && c.Reason.Contains("no object classifier"));
        Assert.False(judge.ChecksKinds);
    }

    [Fact]
    public void Background_is_estimated_from_the_border_when_not_claimed()
    {
        foreach (var background in Vocabulary.Backgrounds)
        {
            var image = SceneRenderer.RenderPlanar(SceneSpec.Single(ObjectKind.House, ClipartColor.Red, ObjectSize.Big, ScenePosition.Bottom, background));
            var analysis = ColorAnalysis.Analyze(image, null, JudgeSettings.Default);
            Assert.True(analysis.BackgroundEstimated);
            Assert.Equal(background, analysis.Background);
        }
    }
}
