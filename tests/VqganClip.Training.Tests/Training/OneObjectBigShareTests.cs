using System.Text.Json.Nodes;
using VqganClip.Clipart;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The transformer trainer's scene mix (<see cref="TransformerTrainingOptions.OneObjectBigShare"/>): a share of each
/// step's scenes drawn as one-object scenes with a big object, the rest the world's own scenes.
/// </summary>
public class OneObjectBigShareTests
{
    [Fact]
    public void Share_zero_is_the_worlds_own_stream()
    {
        var (world, worldCaptions) = ClipartBatches.Scenes(1, 7, 32);
        var (mixed, mixedCaptions) = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 32, 0);
        Assert.Equal(world, mixed);
        Assert.Equal(worldCaptions, mixedCaptions);
    }

    [Fact]
    public void Share_one_draws_only_one_object_scenes_with_a_big_object_captioned_as_the_world_captions_them()
    {
        var (specs, captions) = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 32, 1);
        Assert.All(specs, s => Assert.Single(s.Objects));
        Assert.All(specs, s => Assert.Equal(ObjectSize.Big, s.Objects[0].Size));
        Assert.All(specs, s => Assert.Null(s.Relation));
        // the step's own seed, the world's sampler without pairs, small objects skipped: the stream the session-33 runs trained on
        var sampler = new SceneSampler(ClipartBatches.StepSeed(1, 7), pairFraction: 0);
        var expected = Enumerable.Range(0, 200).Select(_ => sampler.NextCaptioned()).Where(d => d.Spec.Objects[0].Size == ObjectSize.Big).Take(32).ToArray();
        Assert.Equal(expected.Select(d => d.Spec), specs);
        Assert.Equal(expected.Select(d => d.Caption), captions);
        Assert.Equal(32, captions.Distinct().Count());
        Assert.Contains(captions, c => c.Contains("big") || c.Contains("large"));
    }

    [Fact]
    public void A_share_between_puts_that_many_big_one_object_scenes_first_and_keeps_the_worlds_pairs_and_sizes_in_the_rest()
    {
        int pairs = 0, small = 0;
        for (long step = 0; step < 8; step++)
        {
            var (specs, captions) = ClipartBatches.ScenesWithOneObjectBigShare(3, step, 32, 0.75);
            Assert.Equal(32, specs.Length);
            Assert.All(specs.Take(24), s => Assert.True(s.Objects.Count == 1 && s.Objects[0].Size == ObjectSize.Big));
            var rest = specs.Skip(24).ToArray();
            pairs += rest.Count(s => s.Objects.Count == 2);
            small += rest.Count(s => s.Objects.Any(o => o.Size == ObjectSize.Small));
            Assert.Empty(specs.Take(24).Intersect(rest));   // the two streams are seeded apart
            Assert.Equal(specs, ClipartBatches.ScenesWithOneObjectBigShare(3, step, 32, 0.75).Specs);
            Assert.Equal(captions, ClipartBatches.ScenesWithOneObjectBigShare(3, step, 32, 0.75).Captions);
        }
        Assert.InRange(pairs, 10, 50);   // the world's 40% of 64 scenes
        Assert.True(small > 5, $"the world's remainder keeps small objects ({small})");
        // half of 5 is 3 one-object big scenes (rounded away from zero), then the world's
        var half = ClipartBatches.ScenesWithOneObjectBigShare(3, 0, 5, 0.5).Specs;
        var allBig = ClipartBatches.ScenesWithOneObjectBigShare(3, 0, 5, 1).Specs;
        Assert.Equal(allBig.Take(3), half.Take(3));
        Assert.NotEqual(allBig[3], half[3]);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_share_outside_zero_to_one_is_refused_by_name(double share)
    {
        var e = Assert.Throws<ArgumentException>(() => new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = share }.Validate());
        Assert.Contains("one-object big share (--one-object-big-share) must be in [0, 1]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipartBatches.ScenesWithOneObjectBigShare(1, 0, 8, share));
    }

    [Fact]
    public void The_share_is_saved_with_the_run_and_a_run_folder_from_before_the_option_resumes_with_the_worlds_scenes()
    {
        var options = new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = 0.75 };
        var json = options.ToJson();
        Assert.Equal(0.75, json["one_object_big_share"]!.GetValue<double>());
        Assert.Equal(options, TransformerTrainingOptions.FromJson(JsonNode.Parse(json.ToJsonString())!.AsObject()));

        json.Remove("one_object_big_share");
        Assert.Equal(0.0, TransformerTrainingOptions.FromJson(json).OneObjectBigShare);
    }
}
