using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Losses;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.Images;
using VqganClip.Tests.Guidance;
using static TorchSharp.torch;
using static VqganClip.Tests.DeepDream.DeepDreamTestSupport;

namespace VqganClip.Tests.DeepDream;

/// <summary>The perceptual terms inside a guided run: recorded beside the prompt losses, and the style term pulls the picture toward the style.</summary>
public sealed class PerceptualGuidedRunTests(TinyModels models) : IClassFixture<TinyModels>
{
    [Fact]
    public void A_guided_run_with_the_style_and_feature_terms_records_them_and_lowers_the_style_loss()
    {
        using var scope = NewDisposeScope();
        var style = Picture(64, 64, 21);
        var generator = new PixelGenerator(64, 64);
        using var run = new GuidedRun(generator, models.Clip, PromptParser.Parse("a red apple"), new GuidanceOptions { CutCount = 2, Seed = 2, LearningRate = 0.05 },
            regularizers: [new GramStyleLoss(Network, style, ["stem", "stage1.block1"], weight: 100), new FeatureDistanceLoss(Network, Picture(64, 64, 22), "stage1.block1", weight: 0.01)]);
        run.Step(6);
        var first = run.History[0].Regularizers;
        var last = run.History[^1].Regularizers;
        Assert.Contains("style", first.Keys);
        Assert.Contains("feature", first.Keys);
        Assert.True(last["style"] < first["style"], $"the style loss did not fall: {first["style"]} -> {last["style"]}");
    }

    /// <summary>Style and feature pictures as PNG files in a fresh folder (the options name files).</summary>
    private static (string Dir, string Style, string Feature) Pictures()
    {
        var dir = TempDir();
        string style = Path.Combine(dir, "style.png"), feature = Path.Combine(dir, "feature.png");
        using (var p = Picture(64, 64, 21)) ImageIO.Save(p, style);
        using (var p = Picture(64, 64, 22)) ImageIO.Save(p, feature);
        return (dir, style, feature);
    }

    [Fact]
    public void Options_naming_a_style_and_a_feature_picture_add_both_terms_and_a_saved_run_resumes_exactly()
    {
        var (dir, style, feature) = Pictures();
        try
        {
            var options = new GuidanceOptions { CutCount = 2, Seed = 3, LearningRate = 0.05, StyleImage = style, StyleWeight = 100, FeatureImage = feature, FeatureWeight = 0.01 };
            using var straight = new GuidedRun(new PixelGenerator(64, 64), models.Clip, PromptParser.Parse("a red apple"), options);
            Assert.Equal(["style", "feature"], straight.Regularizers.Select(r => r.Name));
            Assert.Equal(100, ((GramStyleLoss)straight.Regularizers[0]).Weight);
            Assert.Equal(0.01, ((FeatureDistanceLoss)straight.Regularizers[1]).Weight);
            straight.Step(6);
            Assert.True(straight.History[^1].Regularizers["style"] < straight.History[0].Regularizers["style"]);

            var runDir = Path.Combine(dir, "run");
            using (var first = new GuidedRun(new PixelGenerator(64, 64), models.Clip, PromptParser.Parse("a red apple"), options))
            {
                first.Step(3);
                first.Save(runDir);
            }
            using var resumed = GuidedRun.Resume(runDir, models.Clip);
            Assert.Equal(["style", "feature"], resumed.Regularizers.Select(r => r.Name));
            resumed.Step(3);
            Assert.Equal(straight.CurrentImage().ToPng(), resumed.CurrentImage().ToPng());
            Assert.Equal(straight.History.Select(h => h.Regularizers["feature"]), resumed.History.Select(h => h.Regularizers["feature"]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_missing_style_picture_is_named_before_the_run_is_made()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-style-" + Guid.NewGuid().ToString("N") + ".png");
        var e = Assert.Throws<FileNotFoundException>(() =>
            new GuidedRun(new PixelGenerator(32, 32), models.Clip, PromptParser.Parse("a star"), new GuidanceOptions { StyleImage = missing }));
        Assert.Contains("style picture", e.Message);
        Assert.Contains(missing, e.Message);

        var recipe = RunRecipe.Default with { Prompt = "a star", Generator = "pixels", Size = "32", StyleImage = missing };
        var e2 = Assert.Throws<FileNotFoundException>(() => recipe.CreateRun(models.Clip, null));
        Assert.Contains($"The style picture '{missing}' does not exist", e2.Message);
    }

    [Fact]
    public void The_recipes_feature_term_takes_the_start_picture_unless_given_one_and_needs_a_picture()
    {
        var recipe = RunRecipe.Default with { Prompt = "a star", InitImage = "start.png", FeatureWeight = 0.2 };
        var options = recipe.ToOptions(seed: 1);
        Assert.Equal(Path.GetFullPath("start.png"), options.FeatureImage);
        Assert.Equal(0.2, options.FeatureWeight);
        Assert.Equal(Path.GetFullPath("f.png"), (recipe with { FeatureImage = "f.png" }).ToOptions(1).FeatureImage);
        Assert.Null((recipe with { FeatureWeight = 0 }).ToOptions(1).FeatureImage);   // off: no picture, nothing loaded

        var e = Assert.Throws<ArgumentException>(() => (RunRecipe.Default with { Prompt = "a star", FeatureWeight = 0.2 }).Validate());
        Assert.Contains("needs a picture", e.Message);
        var t = Assert.Throws<ArgumentException>(() => (RunRecipe.Default with { Prompt = "a star", Generator = "transformer", StyleImage = "s.png" }).Validate());
        Assert.Contains("do not apply to the transformer", t.Message);
        Assert.Throws<ArgumentException>(() => (GuidanceOptions.Default with { StyleWeight = -1 }).Validate());
    }
}
