using System.Text.Json.Nodes;
using VqganClip.Clipart;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The transformer trainer's one-object place (<see cref="TransformerTrainingOptions.OneObjectPlace"/>): the big
/// one-object scenes drawn in the middle only, for a GPT that the generate pipeline moves to the caption's place.
/// </summary>
public class OneObjectPlaceTests
{
    [Fact]
    public void The_middle_keeps_the_big_one_object_streams_draws_that_are_in_the_middle()
    {
        var (specs, captions) = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 32, 1, ScenePosition.Middle);
        Assert.All(specs, s => Assert.True(s.Objects.Count == 1 && s.Objects[0].Size == ObjectSize.Big && s.Objects[0].Position == ScenePosition.Middle));
        // the same sampler as without a place, its other draws skipped: the stream the session-36 pilot trained on
        var sampler = new SceneSampler(ClipartBatches.StepSeed(1, 7), pairFraction: 0);
        var expected = Enumerable.Range(0, 2000).Select(_ => sampler.NextCaptioned())
            .Where(d => d.Spec.Objects[0].Size == ObjectSize.Big && d.Spec.Objects[0].Position == ScenePosition.Middle).Take(32).ToArray();
        Assert.Equal(expected.Select(d => d.Spec), specs);
        Assert.Equal(expected.Select(d => d.Caption), captions);
        Assert.DoesNotContain(captions, c => c.Contains("left") || c.Contains("right") || c.Contains("top") || c.Contains("bottom"));

        // no place: the world's places, as before the option
        var any = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 32, 1, null).Specs;
        Assert.Equal(ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 32, 1).Specs, any);
        Assert.Contains(any, s => s.Objects[0].Position != ScenePosition.Middle);
    }

    [Theory]
    [InlineData("any", null)]
    [InlineData("middle", ScenePosition.Middle)]
    [InlineData(" Middle ", ScenePosition.Middle)]
    public void The_place_is_any_or_middle(string text, ScenePosition? place) => Assert.Equal(place, TransformerTrainingOptions.ParsePlace(text));

    [Fact]
    public void Other_places_and_a_mixed_stream_are_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => TransformerTrainingOptions.ParsePlace("left"));
        Assert.Equal("The one-object place (--one-object-place) must be 'any' or 'middle' (got 'left').", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = 1, OneObjectPlace = ScenePosition.Top }.Validate());
        Assert.StartsWith("The one-object place (--one-object-place) must be 'any' or 'middle' (got top)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = 0.5, OneObjectPlace = ScenePosition.Middle }.Validate());
        Assert.StartsWith("The one-object place (--one-object-place) needs --one-object-big-share 1 (got 0.5)", e.Message);
        new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = 1, OneObjectPlace = ScenePosition.Middle }.Validate();
    }

    [Fact]
    public void The_place_is_saved_with_the_run_and_a_run_folder_from_before_the_option_resumes_with_the_worlds_places()
    {
        var options = new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = 1, OneObjectPlace = ScenePosition.Middle };
        var json = options.ToJson();
        Assert.Equal("middle", json["one_object_place"]!.GetValue<string>());
        Assert.Equal(options, TransformerTrainingOptions.FromJson(JsonNode.Parse(json.ToJsonString())!.AsObject()));

        json.Remove("one_object_place");
        Assert.Null(TransformerTrainingOptions.FromJson(json).OneObjectPlace);
        var any = new TransformerTrainingOptions { FirstStage = "x.safetensors" }.ToJson();
        Assert.Null(TransformerTrainingOptions.FromJson(JsonNode.Parse(any.ToJsonString())!.AsObject()).OneObjectPlace);
    }
}
