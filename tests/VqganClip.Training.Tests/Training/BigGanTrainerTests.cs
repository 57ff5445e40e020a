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

        var stylegan = TinyStyleGan2D() with { FactorisedClasses = true, KindClassifierWeight = 0.5, KindStart = 2, KindPretrainSteps = 1 };
        Assert.Equal(stylegan, BigGanTrainingOptions.FromJson(stylegan.ToJson()));
    }

    [Fact]
    public void Options_of_checkpoints_written_before_the_discriminator_choice_read_as_the_biggan_recipe()
    {
        var json = TinyBigGan().ToJson();
        foreach (var key in new[] { "discriminator", "loss", "r1_gamma", "d_reg_every", "factorised_classes", "kind_classifier_weight", "kind_start", "kind_pretrain_steps" }) Assert.True(json.Remove(key), key);
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
        e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { KindClassifierWeight = -0.5 }).Validate());
        Assert.Contains("KindClassifierWeight", e.Message);
        Assert.Contains("-0.5", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { KindStart = 2 }).Validate());
        Assert.Contains("KindClassifierWeight", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { KindClassifierWeight = 1, KindStart = 1, KindPretrainSteps = 2 }).Validate());
        Assert.Contains("KindPretrainSteps (2)", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { KindClassifierWeight = 1, KindStart = 3 }).Validate());
        Assert.Contains("(3 steps)", e.Message);
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

    [Fact]
    public void The_kind_classifier_sees_the_class_coloured_silhouette_centred_and_scaled_and_passes_gradients_to_the_image()
    {
        using var classifier = new SilhouetteKindClassifier();
        // The same red house small on the left of the sky and big in the middle of the grass: one view, up to resampling.
        SceneSpec Scene(ObjectSize size, ScenePosition position, SceneBackground background) =>
            new([SceneObject.Canonical(ObjectKind.House, ClipartColor.Red, size, position)], null, background);
        using var images = (ClipartBatches.Render([Scene(ObjectSize.Small, ScenePosition.Left, SceneBackground.Sky),
            Scene(ObjectSize.Big, ScenePosition.Middle, SceneBackground.Grass),
            new([SceneObject.Canonical(ObjectKind.Circle, ClipartColor.Red, ObjectSize.Big, ScenePosition.Middle)], null, SceneBackground.Sky)], 1) * 2 - 1)
            .requires_grad_(true);
        var ids = tensor(Enumerable.Repeat((long)ClipartClasses.Id(ObjectKind.House, ClipartColor.Red), 3).ToArray());
        var crops = classifier.Crops(images, ids);
        Assert.Equal([3L, 2, SilhouetteKindClassifier.Side, SilhouetteKindClassifier.Side], crops.shape);
        var colour = crops.select(1, 0).detach();
        // Centred: the colour mask's centre of mass is within 1.5 crop pixels of the middle, in both scenes.
        var coords = arange(SilhouetteKindClassifier.Side, ScalarType.Float32) + 0.5f;
        for (int i = 0; i < 2; i++)
        {
            var m = colour[i];
            float mass = m.sum().item<float>();
            Assert.True(mass > 50, $"scene {i}: the red silhouette covers only {mass} crop pixels");
            float cx = (m * coords.view(1, -1)).sum().item<float>() / mass, cy = (m * coords.view(-1, 1)).sum().item<float>() / mass;
            Assert.InRange(cx, 14.5f, 17.5f);
            Assert.InRange(cy, 14.5f, 17.5f);
        }
        // Scaled: the small and the big house give nearly the same silhouette; a circle gives a different one.
        float sameKind = (colour[0] - colour[1]).abs().mean().item<float>();
        float otherKind = (colour[0] - colour[2]).abs().mean().item<float>();
        Assert.True(sameKind < 0.5f * otherKind, $"house/house {sameKind} against house/circle {otherKind}");
        // The grey door of the house is in the detail plane.
        Assert.True(crops.select(1, 1)[0].sum().item<float>() > 1);
        // Differentiable in the image: G gets a gradient through the masks.
        classifier.Forward(images, ids).sum().backward();
        Assert.True(images.grad!.abs().sum().item<float>() > 0);
        Assert.Equal(new long[] { 0, 0, 11, 7 }, ClipartClasses.KindIndices(tensor(new long[] { 0, 9, 119, 70 })).data<long>().ToArray());
    }

    [Fact]
    public void The_kind_classifier_learns_from_its_first_step_G_gets_its_term_from_the_start_and_a_plain_checkpoint_takes_the_schedule_exactly() =>
        SingleThreaded(() => InTempDirectory(dir =>
    {
        // Classifier from step 1 (KindStart 2 − 1 step of pretraining), G's kind term from step 2, of 4.
        var options = TinyStyleGan2D(steps: 4) with { KindClassifierWeight = 1, KindStart = 2, KindPretrainSteps = 1 };
        using var plain = new BigGanTrainer(TinyStyleGan2D(steps: 4), renderThreads: 1);
        using var scheduled = new BigGanTrainer(options, renderThreads: 1);
        var kBefore = StateSnapshot(scheduled.Modules);

        var m0 = scheduled.TrainStep();
        plain.TrainStep();
        Assert.True(double.IsNaN(m0["d_kind"]) && double.IsNaN(m0["g_kind"]));
        plain.SaveCheckpoint(dir);                               // a run without a classifier, at step 1

        var m1 = scheduled.TrainStep();
        plain.TrainStep();
        Assert.InRange(m1["d_kind"], 1.0, 5.0);                  // ln 12 ≈ 2.48 at first
        Assert.True(double.IsNaN(m1["g_kind"]));
        // Until G's term starts, the classifier only watches: G, D and G_ema are the plain run's, bit for bit.
        var p = plain.Modules.state_dict();
        foreach (var (name, t) in scheduled.Modules.state_dict())
        {
            if (name.StartsWith("K.", StringComparison.Ordinal)) Assert.False(Same(t, kBefore[name]), $"'{name}' did not learn at step 1");
            else Assert.True(Same(t, p[name]), $"'{name}' differs from the run without a classifier");
        }
        foreach (var t in kBefore.Values) t.Dispose();

        var m2 = scheduled.TrainStep();
        Assert.True(double.IsFinite(m2["g_kind"]) && m2["g_kind"] > 0);
        // G's loss = softplus(−D) (positive) + 1 · g_kind; without the kind term it would be ≈ 0.7, below ln 12.
        Assert.True(m2["g_loss"] > m2["g_kind"], $"g_loss {m2["g_loss"]} should include g_kind {m2["g_kind"]}");
        scheduled.TrainStep();

        // The plain checkpoint (step 1) given the schedule continues as the scheduled run from step 0 did.
        var schedule = new BigGanTrainer.KindSchedule(1, 2, 1);
        using var resumed = BigGanTrainer.Resume(dir, renderThreads: 1, kind: schedule);
        Assert.Equal(options, resumed.Options);
        while (resumed.Step < 4) resumed.TrainStep();
        var expected = scheduled.Modules.state_dict();
        // 12 kinds and "no object of this class here".
        Assert.Equal([Vocabulary.Kinds.Length + 1L, 64 * 4 * 4], expected["K.net.10.weight"].shape);
        foreach (var (name, tensor) in resumed.Modules.state_dict())
            Assert.True(Same(tensor, expected[name]), $"'{name}' differs after resuming with the schedule");

        // A schedule whose classifier would have started before the checkpoint is refused, naming both steps.
        var e = Assert.Throws<ArgumentException>(() => BigGanTrainer.Resume(dir, renderThreads: 1, kind: new BigGanTrainer.KindSchedule(1, 1, 1)));
        Assert.Contains("step 0", e.Message);
        Assert.Contains("step 1", e.Message);
        // A checkpoint whose classifier has trained takes its own schedule again (a recipe repeated on resuming) and
        // refuses another, naming both.
        var trained = Path.Combine(dir, "trained");
        scheduled.SaveCheckpoint(trained);
        using (var again = BigGanTrainer.Resume(trained, steps: 6, renderThreads: 1, kind: new BigGanTrainer.KindSchedule(1, 2, 1)))
            Assert.Equal(options with { Steps = 6 }, again.Options);
        var changed = Assert.Throws<ArgumentException>(() => BigGanTrainer.Resume(trained, renderThreads: 1, kind: new BigGanTrainer.KindSchedule(0.5, 2, 1)));
        Assert.Contains("can no longer change", changed.Message);
        Assert.Contains("weight 1,", changed.Message);
        Assert.Contains("weight 0.5,", changed.Message);
        // ...and a run without the option reports no kind figures and keeps no classifier.
        Assert.DoesNotContain("K.net.10.weight", p.Keys);
        Assert.DoesNotContain("d_kind", plain.TrainStep().Keys);
    }));

    [Fact]
    public void The_mode_seeking_term_adds_one_over_the_distance_of_same_class_pairs_to_G_and_leaves_D_step_alone() =>
        SingleThreaded(() =>
    {
        var options = TinyStyleGan2D(steps: 2) with { ModeSeekingWeight = 0.5 };
        Assert.Equal(options, BigGanTrainingOptions.FromJson(options.ToJson()));
        var oldJson = TinyStyleGan2D(steps: 2).ToJson();
        oldJson.Remove("mode_seeking_weight");
        Assert.Equal(0, BigGanTrainingOptions.FromJson(oldJson).ModeSeekingWeight);   // checkpoints before the option: none

        using var plain = new BigGanTrainer(TinyStyleGan2D(steps: 2), renderThreads: 1);
        using var seeking = new BigGanTrainer(options, renderThreads: 1);
        var gBefore = StateSnapshot(seeking.Modules);
        var mp = plain.TrainStep();
        var ms = seeking.TrainStep();
        Assert.DoesNotContain("g_mode_seeking", mp.Keys);
        double lz = ms["g_mode_seeking"];
        Assert.True(double.IsFinite(lz) && lz > 0, $"lz {lz}");
        // the D step draws and learns exactly as without the term
        foreach (var key in new[] { "d_loss_real", "d_loss_fake", "d_real", "d_fake" }) Assert.Equal(mp[key], ms[key]);
        // G's loss is the non-saturating loss (positive, about ln 2 at the start) plus 0.5 / (lz + 1e-5)
        double term = 0.5 / (lz + 1e-5);
        Assert.InRange(ms["g_loss"] - term, 0.01, 5.0);
        Assert.NotEqual(mp["g_loss"], ms["g_loss"]);
        var after = seeking.Modules.state_dict();
        Assert.Contains(after, kv => kv.Key.StartsWith("G.", StringComparison.Ordinal) && !Same(kv.Value, gBefore[kv.Key]));
        foreach (var t in gBefore.Values) t.Dispose();

        var e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { ModeSeekingWeight = -1 }).Validate());
        Assert.Contains("ModeSeekingWeight", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyBigGan() with { ModeSeekingWeight = 1, BatchSize = 3 }).Validate());
        Assert.Contains("BatchSize must be even", e.Message);
    });
}
