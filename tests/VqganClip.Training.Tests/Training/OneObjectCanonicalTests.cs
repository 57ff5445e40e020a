using System.Text.Json.Nodes;
using SkiaSharp;
using VqganClip.Clipart;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The transformer trainer's canonical one-object scenes (<see cref="TransformerTrainingOptions.OneObjectCanonical"/>):
/// the big one-object scenes drawn without the sampler's jitter, so each (kind, colour, backdrop) is one pattern of codes.
/// </summary>
public class OneObjectCanonicalTests
{
    [Fact]
    public void Canonical_scenes_are_the_jittered_streams_draws_at_their_canonical_spot_size_and_angle()
    {
        var (jittered, jitteredCaptions) = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 32, 1, ScenePosition.Middle);
        var (specs, captions) = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 32, 1, ScenePosition.Middle, canonical: true);

        Assert.Equal(jitteredCaptions, captions);
        for (int i = 0; i < specs.Length; i++)
        {
            var (was, o) = (jittered[i].Objects[0], specs[i].Objects[0]);
            Assert.Equal((was.Kind, was.Color, was.Size, was.Position, jittered[i].Background), (o.Kind, o.Color, o.Size, o.Position, specs[i].Background));
            // the middle's canonical spot is the canvas centre, 32 px: a whole number of the f4 VQGAN's 4-px tokens
            Assert.Equal((0.5f, 0.5f, SceneLayout.BigExtent, 0f), (o.CenterX, o.CenterY, o.Extent, o.RotationDegrees));
        }
        // the jitter was there to drop
        Assert.Contains(jittered, s => s.Objects[0].CenterX != 0.5f && s.Objects[0].RotationDegrees != 0f);

        // two draws of one (kind, colour, backdrop): two pictures jittered, one picture canonical
        var (manyJittered, _) = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 200, 1, ScenePosition.Middle);
        var (many, _) = ClipartBatches.ScenesWithOneObjectBigShare(1, 7, 200, 1, ScenePosition.Middle, canonical: true);
        var (a, b) = Enumerable.Range(0, 200).SelectMany(i => Enumerable.Range(i + 1, 199 - i).Select(j => (i, j))).First(p => many[p.i] == many[p.j]);
        using (SKBitmap ja = SceneRenderer.Render(manyJittered[a]), jb = SceneRenderer.Render(manyJittered[b]))
            Assert.NotEqual(ja.Bytes, jb.Bytes);
        using (SKBitmap ca = SceneRenderer.Render(many[a]), cb = SceneRenderer.Render(many[b]))
            Assert.Equal(ca.Bytes, cb.Bytes);
    }

    [Fact]
    public void Canonical_without_one_object_scenes_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectCanonical = true }.Validate());
        Assert.StartsWith("Canonical one-object scenes (--one-object-canonical) need a one-object big share above 0", e.Message);
        new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = 1, OneObjectPlace = ScenePosition.Middle, OneObjectCanonical = true }.Validate();
    }

    [Fact]
    public void Canonical_is_saved_with_the_run_and_a_run_folder_from_before_the_option_resumes_jittered()
    {
        var options = new TransformerTrainingOptions { FirstStage = "x.safetensors", OneObjectBigShare = 1, OneObjectPlace = ScenePosition.Middle, OneObjectCanonical = true };
        var json = options.ToJson();
        Assert.True(json["one_object_canonical"]!.GetValue<bool>());
        Assert.Equal(options, TransformerTrainingOptions.FromJson(JsonNode.Parse(json.ToJsonString())!.AsObject()));

        json.Remove("one_object_canonical");
        Assert.False(TransformerTrainingOptions.FromJson(json).OneObjectCanonical);
    }
}
