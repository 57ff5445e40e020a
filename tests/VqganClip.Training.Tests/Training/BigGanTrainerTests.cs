using VqganClip.Clipart;
using VqganClip.Models.BigGan;
using VqganClip.Models.Transformer;
using VqganClip.Training.BigGan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>The clipart BigGAN trainer on a tiny config (channel_width 4, z_dim 8, D ch 4, batch 4): steps, exact resume, export.</summary>
public class BigGanTrainerTests
{
    [Fact]
    public void Classes_are_kind_times_colour_named_and_rendered_as_one_object_of_their_class()
    {
        Assert.Equal(Vocabulary.Kinds.Length * Vocabulary.Colors.Length, ClipartClasses.Count);
        Assert.Equal("red circle", ClipartClasses.Name(0));
        Assert.Equal("a orange circle", ClipartClasses.Caption(1));
        Assert.Equal(ClipartClasses.Id(ObjectKind.Boat, ClipartColor.Brown), ClipartClasses.Count - 1);
        var (specs, ids) = ClipartClasses.Scenes(3, 7, 40);
        var (again, againIds) = ClipartClasses.Scenes(3, 7, 40);
        Assert.Equal(ids, againIds);
        Assert.Equal(specs, again);
        for (int i = 0; i < specs.Length; i++)
        {
            Assert.Single(specs[i].Objects);
            Assert.Equal(ClipartClasses.Of(ids[i]), (specs[i].Objects[0].Kind, specs[i].Objects[0].Color));
            Assert.False(Palette.Clashes(specs[i].Objects[0].Color, specs[i].Background));
        }
    }

    [Fact]
    public void Training_steps_change_G_D_and_G_ema() => SingleThreaded(() =>
    {
        using var trainer = new BigGanTrainer(TinyBigGan(), renderThreads: 1);
        var before = StateSnapshot(trainer.Modules);
        var losses = trainer.TrainStep();
        trainer.TrainStep();
        Assert.Equal(2, trainer.Step);
        Assert.All(losses.Where(kv => kv.Key != "r1"), kv => Assert.True(double.IsFinite(kv.Value), kv.Key));
        Assert.True(double.IsNaN(losses["r1"]));   // the recipe has no R1 step
        var after = trainer.Modules.state_dict();
        foreach (var name in new[] { "G.generator.gen_z.weight_orig", "G.embeddings.weight", "D.linear.weight_orig", "D.embed.weight_orig", "G_ema.generator.conv_to_rgb.weight_orig" })
            Assert.False(Same(before[name], after[name]), $"'{name}' did not change");
        foreach (var t in before.Values) t.Dispose();
    });

    [Fact]
    public void Checkpoint_resume_continues_exactly() => SingleThreaded(() => InTempDirectory(dir =>
    {
        using var straight = new BigGanTrainer(TinyBigGan(), renderThreads: 1);
        straight.TrainStep();
        straight.SaveCheckpoint(dir);
        while (straight.Step < 3) straight.TrainStep();

        using var resumed = BigGanTrainer.Resume(dir, renderThreads: 1);
        Assert.Equal(1, resumed.Step);
        Assert.Equal(straight.Options, resumed.Options);
        while (resumed.Step < 3) resumed.TrainStep();
        var expected = straight.Modules.state_dict();
        foreach (var (name, tensor) in resumed.Modules.state_dict())
            Assert.True(Same(tensor, expected[name]), $"'{name}' differs after resuming");
    }));

    [Fact]
    public void Export_reloads_with_identical_outputs_folded_standing_stats_and_class_names() => SingleThreaded(() => InTempDirectory(dir =>
    {
        using var trainer = new BigGanTrainer(TinyBigGan(), renderThreads: 1);
        trainer.TrainStep();
        var path = Path.Combine(dir, "tiny-biggan.safetensors");
        trainer.Export(path);
        Assert.True(File.Exists(Path.Combine(dir, "tiny-biggan.config.json")));
        Assert.False(File.Exists(Path.Combine(dir, "config.json")));

        var names = File.ReadAllLines(ClassNames.PathBeside(path));
        Assert.Equal(trainer.Config.NumClasses, names.Length);
        Assert.Equal(ClipartClasses.Names(), names);
        Assert.Equal("red circle", ClassNames.For(path, trainer.Config.NumClasses)![0]);

        using var loaded = BigGanModel.Load(path);
        Assert.Equal(trainer.Config.ToJson(), loaded.Config.ToJson());
        using var z = BigGanInputs.TruncatedNoise(3, loaded.Config.ZDim, 0.5, new Generator(3));
        using var y = BigGanInputs.OneHot([0, 17, 119], loaded.Config.NumClasses);
        using var expected = trainer.Prepared().Forward(z, y, 0.5);
        using var actual = loaded.Forward(z, y, 0.5);
        Assert.True(Same(expected, actual));

        // Standing statistics were accumulated: rows differ from the initial 0 / 1 and from each other.
        var norm = loaded.modules().OfType<BigGanBatchNorm>().First();
        Assert.True(norm.RunningMeans[25].abs().sum().item<float>() > 0);
        Assert.False(Same(norm.RunningMeans[0], norm.RunningMeans[50]));
        Assert.False(Same(norm.RunningVars[50], ones_like(norm.RunningVars[50])));

        // Eval mode (standing statistics) is not the batch-statistics forward.
        loaded.train();
        using var batchStats = loaded.Forward(z, y, 0.5);
        loaded.eval();
        Assert.True((batchStats - actual).abs().max().item<float>() > 1e-4);
    }));

    [Fact]
    public void Options_round_trip_through_json_and_build_a_64px_generator()
    {
        var options = TinyBigGan() with { GDepth = 2, DSteps = 2 };
        Assert.Equal(options, BigGanTrainingOptions.FromJson(options.ToJson()));
        var config = options.GeneratorConfig();
        config.Validate();
        Assert.Equal(64, config.OutputDim);
        Assert.Equal(8, config.Layers.Count);
        Assert.True(config.HasAttention);
        Assert.Throws<ArgumentException>(() => (TinyBigGan() with { DChannels = 6 }).Validate());

        var stylegan = TinyStyleGan2D();
        Assert.Equal(stylegan, BigGanTrainingOptions.FromJson(stylegan.ToJson()));
    }

    [Fact]
    public void Options_of_checkpoints_written_before_the_discriminator_choice_read_as_the_biggan_recipe()
    {
        var json = TinyBigGan().ToJson();
        foreach (var key in new[] { "discriminator", "loss", "r1_gamma", "d_reg_every", "factorised_classes" }) Assert.True(json.Remove(key), key);
        var options = BigGanTrainingOptions.FromJson(json);
        Assert.Equal(BigGanDiscriminatorKind.BigGan, options.Discriminator);
        Assert.Equal(BigGanLoss.Hinge, options.Loss);
        Assert.Equal(0, options.R1Gamma);
        Assert.Equal(TinyBigGan(), options);
    }

    [Fact]
    public void Bad_discriminator_loss_or_batch_settings_are_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => (TinyBigGan() with { Discriminator = "patchgan" }).Validate());
        Assert.Contains("'patchgan'", e.Message);
        Assert.Contains("stylegan2", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyBigGan() with { Loss = "wasserstein" }).Validate());
        Assert.Contains("'wasserstein'", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { BatchSize = 6 }).Validate());
        Assert.Contains("divisible by 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyBigGan() with { R1Gamma = -1 }).Validate());
        Assert.Contains("R1Gamma", e.Message);
    }

    [Fact]
    public void The_stylegan2_discriminator_with_logistic_loss_and_R1_trains_and_resumes_exactly() => SingleThreaded(() => InTempDirectory(dir =>
    {
        using var straight = new BigGanTrainer(TinyStyleGan2D(), renderThreads: 1);
        var before = StateSnapshot(straight.Modules);
        var first = straight.TrainStep();
        // Step 0 is an R1 step (every DRegEvery = 2 steps); step 1 is not.
        Assert.True(double.IsFinite(first["r1"]) && first["r1"] > 0, $"r1 = {first["r1"]}");
        Assert.All(first.Where(kv => kv.Key != "r1"), kv => Assert.True(double.IsFinite(kv.Value), kv.Key));
        straight.SaveCheckpoint(dir);
        var second = straight.TrainStep();
        Assert.True(double.IsNaN(second["r1"]));
        while (straight.Step < 3) straight.TrainStep();

        var after = straight.Modules.state_dict();
        foreach (var name in new[] { "D.embed", "D.discriminator.convs.0.0.weight", "D.discriminator.final_linear.1.weight", "G.generator.gen_z.weight_orig" })
            Assert.False(Same(before[name], after[name]), $"'{name}' did not change");
        foreach (var t in before.Values) t.Dispose();

        using var resumed = BigGanTrainer.Resume(dir, renderThreads: 1);
        Assert.Equal(straight.Options, resumed.Options);
        Assert.IsType<ProjectionStyleGan2Discriminator>(resumed.Discriminator);
        while (resumed.Step < 3) resumed.TrainStep();
        foreach (var (name, tensor) in resumed.Modules.state_dict())
            Assert.True(Same(tensor, after[name]), $"'{name}' differs after resuming");
    }));

    [Fact]
    public void The_projection_term_makes_the_stylegan2_discriminator_depend_on_the_class()
    {
        using var d = new ProjectionStyleGan2Discriminator([16, 16, 16, 8, 4], ClipartClasses.Count);
        using var images = rand(4, 3, 64, 64, generator: new Generator(1)) * 2 - 1;
        using var a = d.Forward(images, tensor(new long[] { 0, 1, 2, 3 }));
        using var b = d.Forward(images, tensor(new long[] { 0, 1, 2, 119 }));
        Assert.Equal([4L], a.shape);
        Assert.True(Same(a.narrow(0, 0, 3), b.narrow(0, 0, 3)));
        Assert.True((a[3] - b[3]).abs().item<float>() > 1e-4);
    }

    [Fact]
    public void Factorised_classes_keep_G_embedding_additive_in_kind_and_colour_through_training() => SingleThreaded(() =>
    {
        using var trainer = new BigGanTrainer(TinyStyleGan2D() with { FactorisedClasses = true }, renderThreads: 1);
        var before = trainer.Generator.Embeddings.weight!.detach().clone();
        trainer.TrainStep();
        trainer.TrainStep();
        var w = trainer.Generator.Embeddings.weight!.detach();
        Assert.False(Same(before, w));
        // Additive: the difference between two colours is the same for every kind (and two kinds for every colour).
        var grid = w.view(w.shape[0], Vocabulary.Kinds.Length, Vocabulary.Colors.Length);
        var colourStep = grid.select(2, 3) - grid.select(2, 7);                  // [dim, kinds]
        Assert.True((colourStep - colourStep[.., 0..1]).abs().max().item<float>() < 1e-5);
        var kindStep = grid.select(1, 2) - grid.select(1, 9);                    // [dim, colours]
        Assert.True((kindStep - kindStep[.., 0..1]).abs().max().item<float>() < 1e-5);
        // ...and not constant: kinds and colours still differ.
        Assert.True(colourStep.abs().max().item<float>() > 1e-3);
        Assert.True(kindStep.abs().max().item<float>() > 1e-3);
        var d = trainer.Modules.state_dict();
        Assert.Equal([(long)Vocabulary.Kinds.Length, 16], d["D.embed"].shape);
        Assert.Equal([(long)Vocabulary.Colors.Length, 16], d["D.embed_colour"].shape);

        var e = Assert.Throws<ArgumentException>(() => (TinyBigGan() with { FactorisedClasses = true }).Validate());
        Assert.Contains("stylegan2", e.Message);
    });

    private static BigGanTrainingOptions TinyStyleGan2D() => TinyBigGan() with
    {
        Discriminator = BigGanDiscriminatorKind.StyleGan2, Loss = BigGanLoss.Logistic, R1Gamma = 0.1, DRegEvery = 2,
    };
}
