using VqganClip.Clipart;
using VqganClip.Models.Pix2Pix;
using VqganClip.Training.Pix2Pix;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>The clipart pix2pix trainer on a tiny config (num_downs 5, ngf 4, ndf 4, batch 4): steps, exact resume, export, the pairs.</summary>
public class Pix2PixTrainerTests
{
    private static Pix2PixTrainingOptions Tiny(long steps = 3) => new()
    {
        Steps = steps,
        BatchSize = 4,
        Seed = 5,
        NumDowns = 5,
        Ngf = 4,
        Ndf = 4,
    };

    private static Dictionary<string, Tensor> Snapshot(TorchSharp.torch.nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [Fact]
    public void Pairs_are_black_outlines_on_white_and_the_coloured_scene_of_the_same_spec()
    {
        var (a, b, captions) = ClipartPairs.Training(5, 0, 6, threads: 1);
        var (a2, b2, captions2) = ClipartPairs.Training(5, 0, 6, threads: 1);
        Assert.Equal(captions, captions2);
        Assert.True(Same(a, a2) && Same(b, b2));
        Assert.Equal(new long[] { 6, 3, 64, 64 }, a.shape);
        // Outline: grey levels only (R = G = B), mostly white, some dark strokes.
        Assert.True((a[.., 0] - a[.., 1]).abs().max().item<float>() < 1e-6);
        Assert.True((a > 0.99).to(ScalarType.Float32).mean().item<float>() > 0.7);
        Assert.True((a < -0.5).any().item<bool>());
        // The coloured scene is not grey.
        Assert.True((b[.., 0] - b[.., 2]).abs().max().item<float>() > 0.2);
    }

    [Fact]
    public void Training_steps_change_G_and_D() => SingleThreaded(() =>
    {
        using var trainer = new Pix2PixTrainer(Tiny(), renderThreads: 1);
        var before = Snapshot(trainer.Generator);
        var beforeD = Snapshot(trainer.Discriminator);
        var losses = trainer.TrainStep();
        trainer.TrainStep();
        Assert.Equal(2, trainer.Step);
        Assert.All(losses.Values, v => Assert.True(double.IsFinite(v)));
        var g = trainer.Generator.state_dict();
        var d = trainer.Discriminator.state_dict();
        foreach (var name in new[] { "model.model.0.weight", "model.model.3.bias", "model.model.1.model.2.running_mean" })
            Assert.False(Same(before[name], g[name]), $"G '{name}' did not change");
        foreach (var name in new[] { "model.0.weight", "model.11.weight" })
            Assert.False(Same(beforeD[name], d[name]), $"D '{name}' did not change");
    });

    [Fact]
    public void The_same_seed_trains_the_same_weights_and_another_seed_does_not() => SingleThreaded(() =>
    {
        using var a = new Pix2PixTrainer(Tiny(), renderThreads: 1);
        using var b = new Pix2PixTrainer(Tiny(), renderThreads: 1);
        using var c = new Pix2PixTrainer(Tiny() with { Seed = 6 }, renderThreads: 1);
        for (int i = 0; i < 2; i++) { a.TrainStep(); b.TrainStep(); c.TrainStep(); }
        var expected = a.Generator.state_dict();
        foreach (var (name, tensor) in b.Generator.state_dict())
            Assert.True(Same(tensor, expected[name]), $"G '{name}' differs between two runs with the same seed");
        Assert.False(Same(c.Generator.state_dict()["model.model.0.weight"], expected["model.model.0.weight"]));
    });

    [Fact]
    public void Checkpoint_resume_continues_exactly() => SingleThreaded(() => InTempDirectory(dir =>
    {
        using var straight = new Pix2PixTrainer(Tiny(), renderThreads: 1);
        straight.TrainStep();
        straight.SaveCheckpoint(dir);
        while (straight.Step < 3) straight.TrainStep();

        using var resumed = Pix2PixTrainer.Resume(dir, renderThreads: 1);
        Assert.Equal(1, resumed.Step);
        Assert.Equal(straight.Options, resumed.Options);
        while (resumed.Step < 3) resumed.TrainStep();
        var expectedG = straight.Generator.state_dict();
        foreach (var (name, tensor) in resumed.Generator.state_dict())
            Assert.True(Same(tensor, expectedG[name]), $"G '{name}' differs after resuming");
        var expectedD = straight.Discriminator.state_dict();
        foreach (var (name, tensor) in resumed.Discriminator.state_dict())
            Assert.True(Same(tensor, expectedD[name]), $"D '{name}' differs after resuming");
    }));

    [Fact]
    public void Export_reloads_with_identical_outputs_in_both_modes() => SingleThreaded(() => InTempDirectory(dir =>
    {
        using var trainer = new Pix2PixTrainer(Tiny(), renderThreads: 1);
        trainer.TrainStep();
        var path = Path.Combine(dir, "tiny-pix2pix.safetensors");
        trainer.Export(path);
        using var loaded = UnetGenerator.Load(path);
        Assert.Equal(trainer.Options.GeneratorConfig(), loaded.Config);
        var (a, _, _) = ClipartPairs.HeldOut(3, threads: 1);
        using var expected = trainer.Generator.Generate(a, trainMode: false);
        using var actual = loaded.Generate(a, trainMode: false);
        Assert.True(Same(expected, actual));
        loaded.DropoutProbability = 0;
        trainer.Generator.DropoutProbability = 0;
        using var expectedTrain = trainer.Generator.Generate(a, trainMode: true);
        using var actualTrain = loaded.Generate(a, trainMode: true);
        Assert.True(Same(expectedTrain, actualTrain));
        Assert.False(Same(actual, actualTrain));
    }));

    [Fact]
    public void Evaluate_reports_held_out_L1_against_the_outline_baseline() => SingleThreaded(() =>
    {
        using var trainer = new Pix2PixTrainer(Tiny(), renderThreads: 1);
        var metrics = trainer.Evaluate(8);
        Assert.InRange(metrics["l1"], 0.01, 2.0);
        Assert.Equal(-metrics["l1"], metrics["neg_l1"]);
        Assert.InRange(metrics["l1_outline"], 0.2, 2.0);
        Assert.True(double.IsNaN(metrics["judge_accepts"]));   // no judge given
        Assert.True(trainer.Generator.training);
    });

    [Fact]
    public void Options_round_trip_through_json_and_refuse_sizes_64px_cannot_take()
    {
        var options = Tiny() with { GanMode = GanMode.LsGan, UseDropout = false };
        Assert.Equal(options, Pix2PixTrainingOptions.FromJson(options.ToJson()));
        var e = Assert.Throws<ArgumentException>(() => (Tiny() with { NumDowns = 7 }).Validate());
        Assert.Contains("64", e.Message);
    }
}
