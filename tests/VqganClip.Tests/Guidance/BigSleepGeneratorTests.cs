using TorchSharp;
using VqganClip.Guidance;
using VqganClip.Guidance.BigSleep;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

/// <summary>
/// Big Sleep's generator (the biggan generator) on the bigsleep-biggan-tiny fixture: its picture is upstream's,
/// its own losses are Big Sleep's, its moving average is the picture shown and survives a save, and the recipe's
/// Big Sleep defaults and errors.
/// </summary>
public sealed class BigSleepGeneratorTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _m;
    public BigSleepGeneratorTests(TinyModels models) => _m = models;

    private static StateDict FixtureIo() => Checkpoint.Load(TestSetup.Fixtures("bigsleep-biggan-tiny", "io.safetensors"));

    private BigSleepGenerator WithFixtureLatents(StateDict io, double? emaDecay = null)
    {
        var g = new BigSleepGenerator(_m.BigGan, emaDecay: emaDecay);
        using var state = new StateDict("test");
        state.Add("normu", io["inputs.normu"].clone());
        state.Add("cls", io["inputs.cls"].clone());
        g.LoadState(state);
        return g;
    }

    [Fact]
    public void The_picture_is_upstreams_image01_and_the_gradients_reach_normu_and_cls()
    {
        using var io = FixtureIo();
        using var g = WithFixtureLatents(io);
        using var image = g.Render();
        var expected = io["outputs.image01"];
        Assert.True(image.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max difference {(image - expected).abs().max().item<float>()}");
        using var objective = (image * io["inputs.readout"]).sum();
        objective.backward();
        Assert.True(g.Latents.grad!.allclose(io["outputs.grad_normu"], rtol: 1e-4, atol: 1e-4));
        Assert.True(g.ClassLogits.grad!.allclose(io["outputs.grad_cls"], rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Its_own_losses_are_big_sleeps_latent_and_class_losses()
    {
        using var io = FixtureIo();
        using var g = WithFixtureLatents(io);
        var own = g.CreateOwnLosses().ToList();
        Assert.Equal(["latent", "class"], own.Select(l => l.Name));
        using var image = g.Render();
        var context = new VqganClip.Guidance.Losses.LossContext(image, g, 0);
        using var latent = own[0].Compute(context)!;
        using var cls = own[1].Compute(context)!;
        using var expectedLatent = BigSleepLosses.LatentLoss(io["inputs.normu"]);
        using var expectedClass = BigSleepLosses.ClassLoss(io["inputs.cls"].sigmoid());
        Assert.Equal(expectedLatent.item<float>(), latent.item<float>(), 5);
        Assert.Equal(expectedClass.item<float>(), cls.item<float>(), 3);
        foreach (var l in own) l.Dispose();
    }

    [Fact]
    public void A_run_records_the_latent_and_class_losses_and_shows_the_average_picture()
    {
        var generator = new BigSleepGenerator(_m.BigGan, emaDecay: 0.9);
        var options = RunRecipe.DefaultsFor("biggan").ToOptions(seed: 4) with { CutCount = 4, SnapshotEvery = 1 };
        using var run = GuidedRun.Create(generator, _m.Clip, "a red rose", options);
        run.Step(3);
        var last = run.History[^1];
        Assert.Contains("latent", last.Regularizers.Keys);
        Assert.Contains("class", last.Regularizers.Keys);
        Assert.Equal(last.Prompts.Sum(p => p.Value) + last.Regularizers.Values.Sum(), last.Total, 4);
        Assert.Equal(PromptLossKind.Cosine, run.Options.PromptLoss);
        Assert.InRange(last.Prompts[0].Value, -100, 100);   // -100 cos

        // the picture shown and saved is the average's, not the live parameters'
        using var live = generator.Render();
        using var shown = run.Current();
        Assert.False(live.allclose(shown), "with an EMA the current picture should be the average's");
        using var average = generator.RenderForDisplay()!;
        Assert.True(average.eq(shown).all().item<bool>());
    }

    [Fact]
    public void The_average_is_saved_with_the_parameters_and_restored()
    {
        using var io = FixtureIo();
        using var g = WithFixtureLatents(io, emaDecay: 0.5);
        using (no_grad())
        {
            g.Latents.add_(0.5);
            g.PostStep();
        }
        using var state = g.StateDict();
        Assert.True(state.ContainsKey("ema.normu.biased"));
        using var restored = new BigSleepGenerator(_m.BigGan, emaDecay: 0.5);
        restored.LoadState(state);
        using var a = g.RenderForDisplay()!;
        using var b = restored.RenderForDisplay()!;
        Assert.True(a.eq(b).all().item<bool>(), "the restored average draws a different picture");
        using var live = g.Render();
        Assert.False(a.allclose(live), "after a step the average differs from the live latents");
    }

    [Fact]
    public void Cosine_prompt_loss_is_big_sleeps_similarity_loss_and_a_negative_weight_avoids()
    {
        using var text = randn(1, 32, generator: new Generator(3));
        using var images = randn(5, 32, generator: new Generator(4));
        using var toward = new Prompt(PromptParser.Parse("x").All.Single(), text);
        using var away = new Prompt(PromptParser.Parse("x:-1").All.Single(), text);
        using var a = toward.Loss(images, PromptLossKind.Cosine);
        using var b = away.Loss(images, PromptLossKind.Cosine);
        using var expectedToward = BigSleepLosses.SimilarityLoss(text, images);
        using var expectedAway = BigSleepLosses.SimilarityLoss(text, images, avoid: true);
        Assert.Equal(expectedToward.item<float>(), a.item<float>(), 4);
        Assert.Equal(expectedAway.item<float>(), b.item<float>(), 4);
    }

    [Fact]
    public void The_recipe_uses_big_sleeps_settings_for_biggan_and_refuses_what_it_cannot_draw()
    {
        var recipe = RunRecipe.BigSleepOriginal;
        Assert.Equal(BigSleepDefaults.LearningRate, recipe.LearningRate);
        Assert.Equal(BigSleepDefaults.CutoutCount, recipe.CutCount);
        Assert.Equal("bigsleep", recipe.CutMethod);
        Assert.Equal("cosine", recipe.PromptLoss);
        Assert.Null(recipe.BigGanClass);   // upstream's start: every class nearly off
        Assert.Equal(1, recipe.BigGanCandidates);
        // the default keeps Big Sleep's optimiser (at 0.01) and loss, and starts on CLIP's class from 128 latents with 32 augmented cutouts
        Assert.Equal(RunRecipe.BigSleepOriginal with { LearningRate = 0.01, BigGanClass = "auto", BigGanCandidates = 128, CutMethod = "augmented", CutCount = 32 },
            RunRecipe.DefaultsFor("biggan"));
        Assert.Same(RunRecipe.Default, RunRecipe.DefaultsFor("vqgan"));

        var biggan = recipe with { Prompt = "a red rose", CutCount = 2 };
        var noModel = Assert.Throws<ArgumentException>(() => biggan.CreateRun(_m.Clip, null));
        Assert.Contains("needs a BigGAN model", noModel.Message);
        var size = Assert.Throws<ArgumentException>(() => (biggan with { Size = "64" }).CreateRun(_m.Clip, null, _m.BigGan));
        Assert.Contains("draws at its model's size, 32x32", size.Message);
        using var run = biggan.CreateRun(_m.Clip, null, _m.BigGan);
        Assert.Equal((32, 32), (run.Generator.Width, run.Generator.Height));
        Assert.IsType<BigSleepCutouts>(run.Cutouts);
        Assert.Throws<ArgumentException>(() => (biggan with { PromptLoss = "cosin" }).Validate());
        Assert.Throws<ArgumentException>(() => (biggan with { EmaDecay = 1.0 }).Validate());
        Assert.Throws<ArgumentException>(() => (biggan with { MaxClasses = 0 }).Validate());
    }

    [Fact]
    public void Max_classes_keeps_each_rows_top_classes()
    {
        using var g = new BigSleepGenerator(_m.BigGan, maxClasses: 2, emaDecay: null);
        using var rng = new Generator(1);
        g.Initialize(rng);
        using var classes = g.CurrentClassVectors();
        using var nonZero = classes.gt(1e-6).sum(1);
        Assert.True(nonZero.le(2).all().item<bool>(), "a row keeps more than its 2 top classes");
        Assert.Throws<ArgumentOutOfRangeException>(() => new BigSleepGenerator(_m.BigGan, maxClasses: 11));
    }
}
