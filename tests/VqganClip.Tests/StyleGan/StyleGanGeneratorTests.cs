using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.StyleClip;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.StyleGan2;
using VqganClip.Tests.Guidance;
using VqganClip.Tests.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static VqganClip.Tests.StyleGan.StyleGanTestSupport;

namespace VqganClip.Tests.StyleGan;

/// <summary>
/// The stylegan generator in the guidance engine on stylegan2-tiny and the clip-vit-tiny CLIP (32 px, which the
/// engine's tokenizer can feed): the engine's run is StyleCLIP's loop, resumes exactly, and refuses what it cannot do.
/// </summary>
public sealed class StyleGanGeneratorTests(ITestOutputHelper output) : IDisposable
{
    static StyleGanGeneratorTests() => TransformerTestSupport.EnsureTorch();

    private readonly StyleGan2Model _model = LoadTiny();
    private readonly ClipModel _clip = ClipModel.Load(TinyModels.ClipPath);

    public void Dispose()
    {
        _model.Dispose();
        _clip.Dispose();
    }

    private static RunRecipe Recipe(int steps = 6) => RunRecipe.DefaultsFor("stylegan") with { Prompt = "a dog", Steps = steps, Seed = 3 };

    [Fact]
    public void The_engine_run_is_styleclips_loop_step_for_step()
    {
        using var io = Io();
        var start = io["styleclip.latent_init"];
        var options = Recipe().ToOptions(seed: 3);
        using var generator = new StyleGanGenerator(_model, StyleGanStart.Latent, start);
        using var run = GuidedRun.Create(generator, _clip, "a dog", options);
        run.Step(6);

        using var tokens = ClipTokenizer.Default.Tokenize("a dog");
        using var loss = new StyleClipLoss(_clip, tokens);
        using var reference = new StyleClipOptimization(_model, loss, start, new StyleClipSettings { Steps = 6 });
        reference.Run();

        for (int i = 0; i < 6; i++)
        {
            var (engine, upstream) = (run.History[i], reference.History[i]);
            output.WriteLine($"step {i}: lr {engine.LearningRate} / {upstream.LearningRate}, total {engine.Total:F7} / {upstream.Loss:F7}, l2 {engine.Regularizers["l2"]:E3}");
            Assert.Equal(upstream.LearningRate, engine.LearningRate, 9);
            Assert.Equal(upstream.Loss, engine.Total, 5);
            Assert.Equal(upstream.L2Loss * 0.008, engine.Regularizers["l2"], 6);
        }
        AssertClose(reference.Latent[0], generator.Parameters[0], "W+ after 6 steps", output);
        Assert.True(generator.Parameters[0].sub(start).abs().max().item<float>() > 1e-3, "the latent did not move");
    }

    [Fact]
    public void Free_generation_starts_at_the_mean_latent_and_has_no_anchor()
    {
        using var generator = new StyleGanGenerator(_model, StyleGanStart.Mean);
        using var run = GuidedRun.Create(generator, _clip, "a dog", Recipe(4).ToOptions(seed: 5));
        using (var rng = new Generator(5))
        using (var mean = _model.MeanLatent(4096, rng))
            AssertClose(_model.ToWPlus(mean), generator.Parameters[0], "free start = mean latent");
        run.Step(4);
        Assert.DoesNotContain("l2", run.History[^1].Regularizers.Keys);
        Assert.Equal(run.History[^1].Prompts.Single().Value, run.History[^1].Total, 6);
    }

    [Fact]
    public void StyleSpace_mode_optimises_all_but_the_torgb_styles()
    {
        var recipe = Recipe(4) with { StyleSpace = true };
        using var run = recipe.CreateRun(_clip, null, stylegan: _model);
        var generator = Assert.IsType<StyleGanGenerator>(run.Generator);
        Assert.Equal(_model.StyleCount - (_model.StyleCount - 2) / 3 - 1, generator.Parameters.Count);
        using var before = generator.StateDict();
        run.Step(4);
        using var after = generator.StateDict();
        foreach (var name in before.Keys.Where(k => k.StartsWith("style.", StringComparison.Ordinal)))
            Assert.False(Same(before[name], after[name]), $"{name} did not move");
        Assert.True(run.History[^1].Regularizers["l2"] > 0);
    }

    [Fact]
    public void A_seeded_start_repeats_and_a_resumed_run_continues_exactly()
    {
        var dir = TempDir();
        try
        {
            var recipe = Recipe(6);
            using var straight = recipe.CreateRun(_clip, null, stylegan: _model);
            straight.Step(6);
            using (var first = recipe.CreateRun(_clip, null, stylegan: _model))
            {
                first.Step(3);
                first.Save(dir);
            }
            using var resumed = GuidedRun.Resume(dir, _clip, generatorFactory: spec => GeneratorFactory.Create(spec, stylegan: _model));
            Assert.Equal(3, resumed.StepCount);
            resumed.Step(3);
            Assert.Equal(straight.History.Select(h => h.Total), resumed.History.Select(h => h.Total));
            Assert.Equal(straight.History.Select(h => h.Regularizers["l2"]), resumed.History.Select(h => h.Regularizers["l2"]));
            Assert.Equal(straight.CurrentImage().ToPng(), resumed.CurrentImage().ToPng());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_latent_file_starts_the_edit_and_bad_ones_are_named()
    {
        var dir = TempDir();
        try
        {
            using var io = Io();
            var good = Path.Combine(dir, "wplus.safetensors");
            SafeTensors.Write(good, [("latent", io["styleclip.latent_init"])]);
            using (var run = (Recipe(1) with { StyleGanLatent = good }).CreateRun(_clip, null, stylegan: _model))
                AssertClose(io["styleclip.latent_init"], run.Generator.Parameters[0], "start from the file");

            var bad = Path.Combine(dir, "w.safetensors");
            SafeTensors.Write(bad, [("latent", io["inputs.wplus"].narrow(1, 0, 5))]);
            var e = Assert.Throws<InvalidDataException>(() => (Recipe(1) with { StyleGanLatent = bad }).CreateRun(_clip, null, stylegan: _model));
            Assert.Contains("[2, 5, 32]", e.Message);
            Assert.Contains("[1, 8, 32]", e.Message);
            var both = Assert.Throws<ArgumentException>(() => (Recipe(1) with { StyleGanLatent = good, StyleGanFree = true }).CreateRun(_clip, null, stylegan: _model));
            Assert.Contains("Free generation", both.Message);
            Assert.Throws<FileNotFoundException>(() => (Recipe(1) with { StyleGanLatent = Path.Combine(dir, "none.pt") }).CreateRun(_clip, null, stylegan: _model));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_recipe_has_styleclips_defaults_and_refuses_what_it_cannot_draw()
    {
        var recipe = RunRecipe.DefaultsFor("stylegan");
        Assert.Equal((300, 0.1, "Adam", "styleclip", "styleclip", 1, 0.008), (recipe.Steps, recipe.LearningRate, recipe.Optimizer, recipe.CutMethod, recipe.PromptLoss, recipe.CutCount, recipe.L2Lambda));
        Assert.Equal("styleclip:300", recipe.ToOptions(0).Schedule);
        var noModel = Assert.Throws<ArgumentException>(() => Recipe().CreateRun(_clip, null));
        Assert.Contains("needs a StyleGAN2 model", noModel.Message);
        var size = Assert.Throws<ArgumentException>(() => (Recipe() with { Size = "64" }).CreateRun(_clip, null, stylegan: _model));
        Assert.Contains("draws at its model's size, 32x32", size.Message);
        Assert.Throws<ArgumentException>(() => (Recipe() with { L2Lambda = -1 }).Validate());
        using var run = Recipe().CreateRun(_clip, null, stylegan: _model);
        Assert.IsType<StyleClipCutouts>(run.Cutouts);
        Assert.Equal(PromptLossKind.StyleClip, run.Options.PromptLoss);
    }
}
