using VqganClip.Clipart;
using VqganClip.Training.BigGan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The clipart BigGAN trainer's canonical scenes (<see cref="BigGanTrainingOptions.CanonicalScenes"/>): the real
/// scenes and the scenes the noise names keep their draws and lose only the jitter.
/// </summary>
public class BigGanCanonicalScenesTests
{
    [Fact]
    public void Canonical_training_scenes_are_the_same_draws_with_the_object_at_its_canonical_spot()
    {
        var (jittered, ids) = ClipartClasses.Scenes(3, 7, 64);
        var (canonical, canonicalIds) = ClipartClasses.Scenes(3, 7, 64, canonical: true);
        Assert.Equal(ids, canonicalIds);
        int moved = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            var (j, c) = (jittered[i].Objects[0], Assert.Single(canonical[i].Objects));
            Assert.Equal(jittered[i].Background, canonical[i].Background);
            Assert.Equal(SceneObject.Canonical(j.Kind, j.Color, j.Size, j.Position), c);
            if (j != c) moved++;
        }
        // the sampler jitters almost every object: the canonical draw changes them
        Assert.InRange(moved, 60, 64);
    }

    [Fact]
    public void Canonical_noise_scenes_ignore_the_jitter_entries()
    {
        var rows = new float[2, 16];
        rows[0, 1] = 2; rows[0, 5 + 2] = 1; rows[0, 10 + 1] = 1;
        rows[1, 1] = 2; rows[1, 5 + 2] = 1; rows[1, 10 + 1] = 1;
        rows[1, 12] = 10; rows[1, 13] = -10; rows[1, 14] = 10; rows[1, 15] = -10;   // the jitters at their ends
        var colour = Vocabulary.Colors.First(c => !Palette.Clashes(c, Vocabulary.Backgrounds[1]));
        int id = ClipartClasses.Id(ObjectKind.Star, colour);
        using var z = tensor(rows);
        using var classIds = tensor(new long[] { id, id });
        var jittered = NoiseScenes.Specs(z, classIds);
        var canonical = NoiseScenes.Specs(z, classIds, canonical: true);
        var expected = SceneSpec.Single(ObjectKind.Star, colour, Vocabulary.Sizes[1], Vocabulary.Positions[2], Vocabulary.Backgrounds[1]);
        Assert.Equal(expected, canonical[0]);
        Assert.Equal(expected, canonical[1]);
        Assert.Equal(expected, jittered[0]);                // no jitter named: the same scene
        Assert.NotEqual(expected, jittered[1]);
    }

    [Fact]
    public void The_option_is_saved_with_the_run_and_changes_both_the_real_scenes_and_the_tie() => SingleThreaded(() =>
    {
        var plainOptions = TinyStyleGan2D(steps: 2) with { ZDim = 16, SceneTieWeight = 5 };
        var options = plainOptions with { CanonicalScenes = true };
        Assert.Equal(options, BigGanTrainingOptions.FromJson(options.ToJson()));
        var old = options.ToJson();
        old.Remove("canonical_scenes");                     // a run saved before the option: jittered
        Assert.False(BigGanTrainingOptions.FromJson(old).CanonicalScenes);

        using var plain = new BigGanTrainer(plainOptions, renderThreads: 1);
        using var canonical = new BigGanTrainer(options, renderThreads: 1);
        var mp = plain.TrainStep();
        var mc = canonical.TrainStep();
        // the same untrained D and fake batch: its loss on the real batch differs only because the real scenes do
        Assert.Equal(mp["d_loss_fake"], mc["d_loss_fake"]);
        Assert.NotEqual(mp["d_loss_real"], mc["d_loss_real"]);
        Assert.NotEqual(mp["g_scene_tie"], mc["g_scene_tie"]);
    });

    [Fact]
    public void The_middle_curriculum_puts_every_canonical_scene_in_the_middle_and_is_refused_without_canonical_scenes()
    {
        var (canonical, ids) = ClipartClasses.Scenes(3, 7, 64, canonical: true);
        var (middle, middleIds) = ClipartClasses.Scenes(3, 7, 64, canonical: true, place: ScenePosition.Middle);
        Assert.Equal(ids, middleIds);
        for (int i = 0; i < ids.Length; i++)
        {
            var o = canonical[i].Objects[0];
            Assert.Equal(SceneSpec.Single(o.Kind, o.Color, o.Size, ScenePosition.Middle, canonical[i].Background), middle[i]);
        }
        Assert.Contains(canonical, s => s.Objects[0].Position != ScenePosition.Middle);
        var e = Assert.Throws<ArgumentException>(() => ClipartClasses.Scenes(3, 7, 4, place: ScenePosition.Middle));
        Assert.Contains("canonical scenes only", e.Message);

        using var generator = new Generator(5);
        using var z = randn(32, 16, generator: generator);
        using var classIds = randint(0, ClipartClasses.Count, [32], generator: generator);
        var named = NoiseScenes.Specs(z, classIds, canonical: true);
        var named0 = NoiseScenes.Specs(z, classIds, canonical: true, place: ScenePosition.Middle);
        for (int i = 0; i < 32; i++)
            Assert.Equal(ClipartClasses.Canonical(named[i], ScenePosition.Middle), named0[i]);
        Assert.Throws<ArgumentException>(() => NoiseScenes.Specs(z, classIds, place: ScenePosition.Middle));

        var options = TinyStyleGan2D(steps: 4) with { ZDim = 16, SceneTieWeight = 1, CanonicalScenes = true, MiddleOnlySteps = 2 };
        Assert.Equal(options, BigGanTrainingOptions.FromJson(options.ToJson()));
        options.Validate();
        e = Assert.Throws<ArgumentException>(() => (options with { CanonicalScenes = false }).Validate());
        Assert.Contains("needs CanonicalScenes", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { MiddleOnlySteps = 4 }).Validate());
        Assert.Contains("MiddleOnlySteps must be 0 or a step of the run, 1 to 3 (got 4)", e.Message);
    }

    [Fact]
    public void The_trainer_draws_its_first_steps_in_the_middle() => SingleThreaded(() =>
    {
        var everywhere = TinyStyleGan2D(steps: 2) with { ZDim = 16, SceneTieWeight = 5, CanonicalScenes = true };
        using var plain = new BigGanTrainer(everywhere, renderThreads: 1);
        using var curriculum = new BigGanTrainer(everywhere with { MiddleOnlySteps = 1 }, renderThreads: 1);
        var mp = plain.TrainStep();
        var mc = curriculum.TrainStep();
        // the same untrained D and fake batch; the real scenes and the tie's targets moved to the middle
        Assert.Equal(mp["d_loss_fake"], mc["d_loss_fake"]);
        Assert.NotEqual(mp["d_loss_real"], mc["d_loss_real"]);
        Assert.NotEqual(mp["g_scene_tie"], mc["g_scene_tie"]);
    });

    [Fact]
    public void The_class_embedding_scale_multiplies_G_initial_embedding_and_is_saved() => SingleThreaded(() =>
    {
        var options = TinyStyleGan2D(steps: 2) with { FactorisedClasses = true };
        var scaled = options with { ClassEmbeddingScale = 16 };
        Assert.Equal(scaled, BigGanTrainingOptions.FromJson(scaled.ToJson()));
        var old = scaled.ToJson();
        old.Remove("class_embedding_scale");
        Assert.Equal(1, BigGanTrainingOptions.FromJson(old).ClassEmbeddingScale);
        using var plain = new BigGanTrainer(options, renderThreads: 1);
        using var big = new BigGanTrainer(scaled, renderThreads: 1);
        var w = plain.Generator.Embeddings.weight!;
        var w16 = big.Generator.Embeddings.weight!;
        Assert.True(w16.allclose(w * 16, rtol: 1e-5, atol: 1e-6));
        Assert.True(w.abs().max().item<float>() > 0.01f);     // a real initialisation, scaled
        // the EMA copy starts from the scaled G
        Assert.True(big.GeneratorEma.Embeddings.weight!.allclose(w16));
        var e = Assert.Throws<ArgumentException>(() => (options with { ClassEmbeddingScale = 0 }).Validate());
        Assert.Contains("ClassEmbeddingScale must be a positive number (got 0)", e.Message);
    });
}
