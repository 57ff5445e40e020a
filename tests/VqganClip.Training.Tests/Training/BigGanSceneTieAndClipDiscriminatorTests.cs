using VqganClip.Clipart;
using VqganClip.Models.Clip;
using VqganClip.Training.BigGan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The clipart BigGAN trainer's scene tie (<see cref="NoiseScenes"/>, <see cref="BigGanTrainingOptions.SceneTieWeight"/>)
/// and its vision-aided CLIP discriminator (<see cref="ClipFeatureDiscriminator"/>), on the tiny config with a tiny CLIP.
/// </summary>
public class BigGanSceneTieAndClipDiscriminatorTests
{
    [Fact]
    public void Noise_names_a_world_scene_by_its_argmaxes_the_same_at_any_truncation()
    {
        // a class and a background that clash (the world never draws that colour on it), and one that does not
        var (clashColour, clashBackground) = Vocabulary.Colors.SelectMany(c => Vocabulary.Backgrounds.Select(b => (c, b)))
            .First(p => Palette.Clashes(p.c, p.b));
        int b = Array.IndexOf(Vocabulary.Backgrounds, clashBackground);
        int next = Enumerable.Range(0, 5).First(k => k != b && !Palette.Clashes(clashColour, Vocabulary.Backgrounds[k]));
        int clashing = ClipartClasses.Id(ObjectKind.Boat, clashColour);
        var rows = new float[2, 16];
        rows[0, 2] = 2; rows[0, 5 + 3] = 1; rows[0, 10 + 1] = 1;                  // background 2, position 3, size 1, no jitter
        rows[1, b] = 3; rows[1, next] = 2; rows[1, 5] = 1; rows[1, 10] = 1;        // its first background clashes
        rows[1, 12] = 10; rows[1, 13] = -10; rows[1, 14] = 10; rows[1, 15] = -10;  // the jitters at their ends
        var colour0 = Vocabulary.Colors.First(c => !Palette.Clashes(c, Vocabulary.Backgrounds[2]));
        int class0 = ClipartClasses.Id(ObjectKind.Tree, colour0);
        using var z = tensor(rows);
        using var ids = tensor(new long[] { class0, clashing });
        var specs = NoiseScenes.Specs(z, ids);

        var o = Assert.Single(specs[0].Objects);
        Assert.Equal((ObjectKind.Tree, colour0), (o.Kind, o.Color));
        Assert.Equal(Vocabulary.Backgrounds[2], specs[0].Background);
        Assert.Equal((Vocabulary.Positions[3], Vocabulary.Sizes[1]), (o.Position, o.Size));
        Assert.Equal(SceneObject.Canonical(o.Kind, o.Color, o.Size, o.Position), o);   // Φ(0) = ½: no jitter

        var o1 = Assert.Single(specs[1].Objects);
        Assert.Equal(Vocabulary.Backgrounds[next], specs[1].Background);
        Assert.Equal((Vocabulary.Positions[0], Vocabulary.Sizes[0]), (o1.Position, o1.Size));
        var (cx, cy) = SceneLayout.CenterOf(o1.Position);
        var amplitude = o1.Position is ScenePosition.Left or ScenePosition.Right ? (0.03f, 0.05f)
            : o1.Position is ScenePosition.Top or ScenePosition.Bottom ? (0.05f, 0.03f) : (0.04f, 0.04f);
        Assert.Equal(cx + amplitude.Item1, o1.CenterX, 5);
        Assert.Equal(cy - amplitude.Item2, o1.CenterY, 5);
        Assert.Equal(SceneLayout.ExtentOf(o1.Size) * 1.06f, o1.Extent, 5);
        Assert.Equal(-10f, o1.RotationDegrees, 4);

        // truncation scales z: the background, place and size stay; the jitter shrinks toward none
        using var truncated = z * 0.25f;
        var t = NoiseScenes.Specs(truncated, ids);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(specs[i].Background, t[i].Background);
            Assert.Equal((specs[i].Objects[0].Position, specs[i].Objects[0].Size), (t[i].Objects[0].Position, t[i].Objects[0].Size));
        }
        Assert.InRange(Math.Abs(t[1].Objects[0].RotationDegrees), 9.0, 10.0);   // 2Φ(2.5) − 1 = 0.988
    }

    [Fact]
    public void Gaussian_noise_names_places_and_sizes_as_often_as_the_world_and_bad_shapes_are_refused_by_name()
    {
        using var generator = new Generator(11);
        using var z = randn(6000, 32, generator: generator);
        using var ids = randint(0, ClipartClasses.Count, [6000], generator: generator);
        var objects = NoiseScenes.Specs(z, ids).Select(s => s.Objects[0]).ToArray();
        foreach (var position in Vocabulary.Positions)
            Assert.InRange(objects.Count(o => o.Position == position) / 6000.0, 0.18, 0.22);
        foreach (var size in Vocabulary.Sizes)
            Assert.InRange(objects.Count(o => o.Size == size) / 6000.0, 0.47, 0.53);
        Assert.Equal(16, NoiseScenes.Dimensions);

        using var narrow = zeros(4, 8);
        var e = Assert.Throws<ArgumentException>(() => NoiseScenes.Specs(narrow, zeros(4, ScalarType.Int64)));
        Assert.Contains("first 16 entries", e.Message);
        Assert.Contains("[4, 8]", e.Message);
        e = Assert.Throws<ArgumentException>(() => NoiseScenes.Specs(zeros(4, 16), zeros(3, ScalarType.Int64)));
        Assert.Contains("3 ids for 4 rows", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { SceneTieWeight = 1 }).Validate());   // z_dim 8
        Assert.Contains("ZDim must be at least 16 (got 8)", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { SceneTieWeight = -1 }).Validate());
        Assert.Contains("SceneTieWeight", e.Message);
    }

    [Fact]
    public void The_scene_tie_adds_its_L1_to_G_loss_and_leaves_the_D_step_alone() => SingleThreaded(() =>
    {
        var plainOptions = TinyStyleGan2D(steps: 2) with { ZDim = 16 };
        var options = plainOptions with { SceneTieWeight = 5 };
        Assert.Equal(options, BigGanTrainingOptions.FromJson(options.ToJson()));
        using var plain = new BigGanTrainer(plainOptions, renderThreads: 1);
        using var tied = new BigGanTrainer(options, renderThreads: 1);
        var mp = plain.TrainStep();
        var mt = tied.TrainStep();
        Assert.DoesNotContain("g_scene_tie", mp.Keys);
        foreach (var key in new[] { "d_loss_real", "d_loss_fake", "d_real", "d_fake" }) Assert.Equal(mp[key], mt[key]);
        // an untrained G draws nothing like the scene: the mean |difference| of [-1, 1] pixels is well above 0
        Assert.InRange(mt["g_scene_tie"], 0.1, 2.0);
        // the same G and batch: G's loss is the plain one plus 5 times the tie (float32 sums)
        Assert.Equal(mp["g_loss"] + 5 * mt["g_scene_tie"], mt["g_loss"], 3);
    });

    [Fact]
    public void The_CLIP_discriminator_waits_for_its_start_then_learns_resumes_exactly_and_keeps_only_its_head() =>
        SingleThreaded(() => InTempDirectory(dir =>
    {
        var clipPath = Path.Combine(dir, "tiny-clip.safetensors");
        using (var _ = Models.Runtime.TorchRuntime.Seed(3))
        using (var clip = new ClipModel(TinyClip().Model)) ClipTrainer.Export(clip, clipPath, 0);
        var options = TinyStyleGan2D(steps: 4) with { ClipDiscriminatorPath = clipPath, ClipDiscriminatorStart = 1, ClipDiscriminatorWeight = 0.5 };
        Assert.Equal(options, BigGanTrainingOptions.FromJson(options.ToJson()));
        using var plain = new BigGanTrainer(TinyStyleGan2D(steps: 4), renderThreads: 1);
        using var aided = new BigGanTrainer(options, renderThreads: 1);
        var before = StateSnapshot(aided.Modules);
        // the head only (fc1, fc2, out, the kind and colour tables: weights and biases), not the CLIP
        var head = before.Keys.Where(k => k.StartsWith("C.", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(["C.colour_embed.weight", "C.fc1.bias", "C.fc1.weight", "C.fc2.bias", "C.fc2.weight", "C.kind_embed.weight", "C.out.bias", "C.out.weight"], head);
        Assert.Equal([256L, 32L], before["C.fc1.weight"].shape);   // the tiny CLIP's embedding width

        var m0 = aided.TrainStep();
        plain.TrainStep();
        Assert.True(double.IsNaN(m0["clip_d_real"]) && double.IsNaN(m0["g_clip_d"]));
        // before its start it changes nothing: G, D and G_ema are the plain run's, bit for bit, and the head is as built
        var p = plain.Modules.state_dict();
        foreach (var (name, t) in aided.Modules.state_dict())
            Assert.True(Same(t, name.StartsWith("C.", StringComparison.Ordinal) ? before[name] : p[name]), $"'{name}' changed before the start");
        aided.SaveCheckpoint(Path.Combine(dir, "at1"));

        var m1 = aided.TrainStep();
        Assert.True(double.IsFinite(m1["clip_d_real"]) && double.IsFinite(m1["clip_d_fake"]));
        Assert.True(m1["g_clip_d"] > 0);
        var after = aided.Modules.state_dict();
        foreach (var name in head) Assert.False(Same(after[name], before[name]), $"'{name}' did not learn");
        foreach (var t in before.Values) t.Dispose();
        aided.SaveCheckpoint(Path.Combine(dir, "at2"));
        while (aided.Step < 4) aided.TrainStep();

        // from before the start (the head's initial self comes from the constructor) and after it (from the checkpoint)
        foreach (var at in new[] { "at1", "at2" })
        {
            using var resumed = BigGanTrainer.Resume(Path.Combine(dir, at), renderThreads: 1);
            Assert.Equal(options, resumed.Options);
            while (resumed.Step < 4) resumed.TrainStep();
            var expected = aided.Modules.state_dict();
            foreach (var (name, tensor) in resumed.Modules.state_dict())
                Assert.True(Same(tensor, expected[name]), $"'{name}' differs after resuming from {at}");
        }

        // another file at the CLIP's path, or none, is refused by name
        File.WriteAllBytes(clipPath, [.. File.ReadAllBytes(clipPath).Take(100), .. new byte[10]]);
        var changed = Assert.Throws<InvalidDataException>(() => BigGanTrainer.Resume(Path.Combine(dir, "at2"), renderThreads: 1));
        Assert.Contains(clipPath, changed.Message);
        Assert.Contains("is not the file", changed.Message);
        File.Delete(clipPath);
        var missing = Assert.Throws<FileNotFoundException>(() => BigGanTrainer.Resume(Path.Combine(dir, "at2"), renderThreads: 1));
        Assert.Contains(clipPath, missing.Message);
        missing = Assert.Throws<FileNotFoundException>(() => new BigGanTrainer(options, renderThreads: 1));
        Assert.Contains(clipPath, missing.Message);

        var e = Assert.Throws<ArgumentException>(() => (options with { ClipDiscriminatorStart = 4 }).Validate());
        Assert.Contains("ClipDiscriminatorStart must be a step of the run, 0 to 3 (got 4)", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { ClipDiscriminatorWeight = 0 }).Validate());
        Assert.Contains("ClipDiscriminatorWeight", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { ClipDiscriminatorPath = "" }).Validate());
        Assert.Contains("ClipDiscriminatorPath is empty", e.Message);
    }));

    [Fact]
    public void Checkpoints_written_before_the_scene_tie_and_the_CLIP_discriminator_read_as_runs_without_them()
    {
        var json = TinyStyleGan2D().ToJson();
        foreach (var key in new[] { "scene_tie_weight", "redraw_tie_weight", "redraw_tie_start", "clip_discriminator", "clip_discriminator_weight", "clip_discriminator_start", "clip_discriminator_lr" })
            Assert.True(json.Remove(key), key);
        Assert.Equal(TinyStyleGan2D(), BigGanTrainingOptions.FromJson(json));
    }
}
