using VqganClip.Guidance.DeepDream;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static VqganClip.Tests.DeepDream.DeepDreamTestSupport;

namespace VqganClip.Tests.DeepDream;

/// <summary>Short dreams on the real ResNet18: they change the picture, raise the objective, and repeat from a seed.</summary>
public sealed class DeepDreamerTests(ITestOutputHelper output)
{
    private static readonly DreamSettings Short = new() { Layer = "stage2.block1", Octaves = 1, Steps = 2, StepSize = 3, Jitter = 8, Seed = 3 };

    [Fact]
    public void A_short_dream_changes_the_picture_raises_the_objective_and_repeats_from_its_seed()
    {
        using var scope = NewDisposeScope();
        var dreamer = new DeepDreamer(Network);
        var picture = Picture(64, 64, 11);
        var before = picture.clone();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var objectives = new List<double>();
        var a = dreamer.Dream(picture, Short, p => objectives.Add(p.Objective));
        output.WriteLine($"64x64, 1 octave x 2 steps: {watch.Elapsed.TotalMilliseconds:F0} ms; objectives {string.Join(", ", objectives.Select(o => o.ToString("G4")))}");
        Assert.True(picture.equal(before).all().item<bool>(), "the input picture is left alone");
        Assert.Equal(picture.shape, a.shape);
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        double change = (a - picture).abs().mean().item<float>();
        output.WriteLine($"mean |change| {change:G3}");
        Assert.True(change > 2e-3, $"the dream barely changed the picture (mean |change| {change})");
        Assert.Equal(2, objectives.Count);

        // the objective climbs: measured on the whole picture, before and after
        using (no_grad())
        {
            double start = dreamer.Objective(Network.Preprocess(picture), Short.Layer, null).item<float>();
            double end = dreamer.Objective(Network.Preprocess(a), Short.Layer, null).item<float>();
            output.WriteLine($"objective {start:G4} -> {end:G4}");
            Assert.True(end > start * 1.01, $"the objective did not rise: {start} -> {end}");
        }

        var again = dreamer.Dream(picture, Short);
        Assert.True(a.equal(again).all().item<bool>(), "the same seed gives the same picture");
        var other = dreamer.Dream(picture, Short with { Seed = 4 });
        Assert.False(a.equal(other).all().item<bool>(), "another seed jitters differently");
    }

    [Fact]
    public void Octaves_and_a_channel_objective_work_on_sizes_that_are_not_multiples_of_32()
    {
        using var scope = NewDisposeScope();
        var dreamer = new DeepDreamer(Network);
        var picture = Picture(90, 70, 2);
        var settings = new DreamSettings { Layer = "stage1.block2", Channel = 5, Octaves = 2, OctaveScale = 1.4, Steps = 2, Jitter = 4, Seed = 1 };
        var sizes = DeepDreamer.OctaveSizes(90, 70, 2, 1.4);
        Assert.Equal(new[] { (64, 50), (90, 70) }, sizes.ToArray());
        var progress = new List<DreamProgress>();
        var a = dreamer.Dream(picture, settings, progress.Add);
        Assert.Equal(new long[] { 1, 3, 70, 90 }, a.shape);
        Assert.Equal(new[] { (64, 50), (64, 50), (90, 70), (90, 70) }, progress.Select(p => (p.Width, p.Height)).ToArray());
        using (no_grad())
        {
            double start = dreamer.Objective(Network.Preprocess(picture), settings.Layer, 5).item<float>();
            double end = dreamer.Objective(Network.Preprocess(a), settings.Layer, 5).item<float>();
            output.WriteLine($"channel 5 of stage1.block2: {start:G4} -> {end:G4}");
            Assert.True(end > start, $"the channel's mean did not rise: {start} -> {end}");
        }
    }

    [Fact]
    public void Settings_that_cannot_work_are_refused_before_dreaming()
    {
        using var scope = NewDisposeScope();
        var dreamer = new DeepDreamer(Network);
        var small = Picture(64, 64, 1);
        var e = Assert.Throws<ArgumentException>(() => dreamer.Dream(small, new DreamSettings { Octaves = 4 }));
        Assert.Contains("--octaves 3 or fewer", e.Message);   // 64 -> 46 -> 33 -> 23 px
        e = Assert.Throws<ArgumentException>(() => dreamer.Dream(small, new DreamSettings { Octaves = 1, Channel = 256 }));
        Assert.Contains("256 channels", e.Message);
        e = Assert.Throws<ArgumentException>(() => dreamer.Dream(small, new DreamSettings { Octaves = 1, Layer = "inception_4c/output" }));
        Assert.Contains("stage3.block1", e.Message);
        Assert.Throws<ArgumentException>(() => dreamer.Dream(small, new DreamSettings { OctaveScale = 1 }));
        Assert.Throws<ArgumentException>(() => dreamer.Dream(small, new DreamSettings { StepSize = 0 }));
    }
}
