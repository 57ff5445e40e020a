using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Losses;
using VqganClip.Guidance.Prompts;
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
}
