using VqganClip.Clipart.Judge;
using VqganClip.Models.StyleGan2;
using VqganClip.Training.StyleGan2;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>The clipart StyleGAN2 trainer on a tiny config (style 8, n_mlp 1, 16 channels, batch 4, R1 every 2 steps).</summary>
public class StyleGan2TrainerTests
{
    private static StyleGan2TrainingOptions Tiny(long steps = 3) => new()
    {
        Steps = steps,
        BatchSize = 4,
        Seed = 5,
        StyleDim = 8,
        NMlp = 1,
        DRegEvery = 2,
        GChannels = [16, 16, 16, 16, 16],
        DChannels = [16, 16, 16, 16, 16],
    };

    [Fact]
    public void The_discriminator_has_rosinalitys_names_and_shapes()
    {
        using var d = new StyleGan2Discriminator(64, [32, 24, 20, 18, 16]);
        var shapes = d.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(new long[] { 16, 3, 1, 1 }, shapes["convs.0.0.weight"]);
        Assert.Equal(new long[] { 16 }, shapes["convs.0.1.bias"]);
        Assert.False(shapes.ContainsKey("convs.0.0.bias"));   // the activation carries the bias
        // ResBlock 64 → 32 px: conv1 keeps 16, conv2 (blur, stride-2 conv, act) and skip (blur, 1×1, no bias) go to 18.
        Assert.Equal(new long[] { 16, 16, 3, 3 }, shapes["convs.1.conv1.0.weight"]);
        Assert.Equal(new long[] { 4, 4 }, shapes["convs.1.conv2.0.kernel"]);
        Assert.Equal(new long[] { 18, 16, 3, 3 }, shapes["convs.1.conv2.1.weight"]);
        Assert.Equal(new long[] { 18 }, shapes["convs.1.conv2.2.bias"]);
        Assert.Equal(new long[] { 18, 16, 1, 1 }, shapes["convs.1.skip.1.weight"]);
        Assert.False(shapes.ContainsKey("convs.1.skip.2.bias"));
        Assert.Equal(new long[] { 32, 24, 3, 3 }, shapes["convs.4.conv2.1.weight"]);   // 8 → 4 px
        Assert.False(shapes.ContainsKey("convs.5.conv1.0.weight"));
        Assert.Equal(new long[] { 32, 33, 3, 3 }, shapes["final_conv.0.weight"]);      // + the stddev feature map
        Assert.Equal(new long[] { 32, 32 * 16 }, shapes["final_linear.0.weight"]);
        Assert.Equal(new long[] { 1, 32 }, shapes["final_linear.1.weight"]);
        Assert.Equal(new long[] { 1 }, shapes["final_linear.1.bias"]);
        Assert.All(d.parameters(), p => Assert.True(p.requires_grad));

        using var x = randn(8, 3, 64, 64);
        using var logits = d.forward(x);
        Assert.Equal(new long[] { 8, 1 }, logits.shape);
        using var odd = randn(6, 3, 64, 64);
        Assert.Throws<ArgumentException>(() => d.forward(odd));   // 6 is not a multiple of the group of 4
    }

    [Fact]
    public void The_minibatch_stddev_makes_D_see_the_batch()
    {
        // Changing one image of a group changes the other images' logits (through the stddev feature), not another group's.
        using var d = new StyleGan2Discriminator(64, [16, 16, 16, 16, 16]);
        using var _ = no_grad();
        using var x = randn(8, 3, 64, 64);
        using var y = x.clone();
        y[1] = randn(3, 64, 64);
        using var a = d.forward(x);
        using var b = d.forward(y);
        // upstream's view(group, -1, ...): group members are i, i + B/4, ... so image 1 shares its group with 3, 5, 7.
        Assert.False(Same(a[3], b[3]));
        Assert.True(Same(a[2], b[2]));
    }

    [Fact]
    public void A_training_step_changes_G_D_and_g_ema_and_runs_R1() => SingleThreaded(() =>
    {
        using var trainer = new StyleGan2Trainer(Tiny(), renderThreads: 1);
        var g = StateSnapshot(trainer.Generator);
        var d = StateSnapshot(trainer.Discriminator);
        var ema = StateSnapshot(trainer.GeneratorEma);
        Assert.True(Same(g["convs.0.conv.weight"], ema["convs.0.conv.weight"]));
        var first = trainer.TrainStep();
        var second = trainer.TrainStep();
        Assert.True(double.IsFinite(first["r1"]) && first["r1"] > 0, "step 0 is an R1 step (d_reg_every 2)");
        Assert.True(double.IsNaN(second["r1"]), "step 1 is not");
        Assert.All(new[] { "d", "g", "real_score", "fake_score" }, k => Assert.True(double.IsFinite(first[k])));
        foreach (var name in new[] { "style.1.weight", "input.input", "conv1.conv.weight", "convs.7.conv.modulation.bias", "to_rgbs.3.bias", "convs.2.noise.weight" })
        {
            Assert.False(Same(g[name], trainer.Generator.state_dict()[name]), $"G '{name}' did not change");
            Assert.False(Same(ema[name], trainer.GeneratorEma.state_dict()[name]), $"g_ema '{name}' did not change");
        }
        foreach (var name in new[] { "convs.0.0.weight", "convs.3.skip.1.weight", "final_linear.1.bias" })
            Assert.False(Same(d[name], trainer.Discriminator.state_dict()[name]), $"D '{name}' did not change");
        // g_ema moves by (1 − decay) of the way: it stays much nearer its start than G.
        var name0 = "conv1.conv.weight";
        double moveG = (trainer.Generator.state_dict()[name0] - g[name0]).abs().sum().item<float>();
        double moveEma = (trainer.GeneratorEma.state_dict()[name0] - ema[name0]).abs().sum().item<float>();
        Assert.InRange(moveEma / moveG, 1e-4, 0.05);
        // The noise buffers are not trained (accumulate copies parameters only).
        Assert.True(Same(g["noises.noise_3"], trainer.Generator.state_dict()["noises.noise_3"]));
        Assert.All(trainer.GeneratorEma.parameters(), p => Assert.False(p.requires_grad));
    });

    [Fact]
    public void Resume_gives_the_weights_of_an_uninterrupted_run_and_seeds_matter() => SingleThreaded(() => InTempDirectory(dir =>
    {
        using var straight = new StyleGan2Trainer(Tiny(), renderThreads: 1);
        straight.TrainStep();
        straight.SaveCheckpoint(dir);
        while (straight.Step < 3) straight.TrainStep();

        using var resumed = StyleGan2Trainer.Resume(dir, renderThreads: 1);
        Assert.Equal(1, resumed.Step);
        Assert.Equal(straight.Options.ToJson().ToJsonString(), resumed.Options.ToJson().ToJsonString());
        while (resumed.Step < 3) resumed.TrainStep();   // crosses the R1 step 2
        var expected = straight.Modules.state_dict();
        foreach (var (name, tensor) in resumed.Modules.state_dict())
            AssertSame(tensor, expected[name], $"'{name}' differs after resuming");

        using var other = new StyleGan2Trainer(Tiny() with { Seed = 6 }, renderThreads: 1);
        other.TrainStep();
        Assert.False(Same(other.Generator.state_dict()["conv1.conv.weight"], expected["generator.conv1.conv.weight"]));
    }));

    [Fact]
    public void Export_reloads_through_the_models_loader_and_renders_the_same() => SingleThreaded(() => InTempDirectory(dir =>
    {
        using var trainer = new StyleGan2Trainer(Tiny(), renderThreads: 1);
        trainer.TrainStep();
        var path = Path.Combine(dir, "tiny-stylegan.safetensors");
        trainer.Export(path);
        using var loaded = StyleGan2Model.Load(path);
        Assert.Equal(trainer.Config.Channels, loaded.Config.Channels);
        Assert.Equal(64, loaded.ImageSize);
        Assert.NotNull(loaded.LatentAvg);
        // Inferred from the shapes alone (as for a file without the toolkit's metadata), the configuration is the same.
        using (var sd = VqganClip.Models.IO.SafeTensors.Read(path))
            Assert.Equal(trainer.Config.Channels, StyleGan2Config.InferFromStateDict(sd).Channels);
        using var _ = no_grad();
        using var z = randn(2, 8);
        var (expected, _) = trainer.GeneratorEma.Forward([z]);
        var (actual, _) = loaded.Forward([z]);
        Assert.Equal(new long[] { 2, 3, 64, 64 }, actual.shape);
        AssertSame(actual, expected, "the reloaded generator renders differently");
    }));

    [Fact]
    public void The_scene_reader_accepts_rendered_scenes_and_refuses_noise()
    {
        var classifierPath = ObjectClassifier.FindDefault();
        Assert.NotNull(classifierPath);
        var judge = new SceneJudge(ObjectClassifier.LoadDefault());
        var real = StyleGan2SampleEval.RealScenes(40, judge, threads: 1);
        Assert.True(real.ValidRate > 0.85, $"only {real.ValidRate:P0} of rendered scenes read as valid");
        using var noise = rand(8, 3, 64, 64) * 2 - 1;
        var random = StyleGan2SampleEval.Grade(StyleGan2SampleEval.ToPlanar(noise), judge);
        Assert.Equal(0, random.ValidRate);
    }
}
