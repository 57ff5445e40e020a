using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Models.BigGan;
using VqganClip.Training.BigGan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The clipart BigGAN trainer at 32 px (<see cref="BigGanTrainingOptions.Resolution"/>): G one stage shorter, D on the
/// world's scenes area-averaged to 32 px, the ties at G's side, and a file the judge reads upsampled.
/// </summary>
public class BigGanResolutionTests
{
    [Fact]
    public void A_32px_config_halves_once_at_4x4_then_has_the_64px_configs_last_three_stages()
    {
        var options = TinyStyleGan2D() with { Resolution = 32, GDepth = 2 };
        options.Validate();
        Assert.Equal(options, BigGanTrainingOptions.FromJson(options.ToJson()));
        var config = options.GeneratorConfig();
        Assert.Equal(32, config.OutputDim);
        BigGanLayer[] expected =
        [
            new(false, 16, 8),
            new(false, 8, 8), new(true, 8, 4),
            new(false, 4, 4), new(true, 4, 2),
            new(false, 2, 2), new(true, 2, 1),
        ];
        Assert.Equal(expected, config.Layers);
        // attention before the last stage's first GenBlock: at 16x16 (at 64 px: 32x32)
        Assert.Equal(5, config.AttentionLayerPosition);
        Assert.Equal(8, (TinyStyleGan2D() with { GDepth = 2 }).GeneratorConfig().Layers.Count);
        Assert.Equal([16, 16, 16, 8], options.StyleGan2DChannels());
        Assert.Equal([16, 16, 16, 8, 4], TinyStyleGan2D().StyleGan2DChannels());

        // a checkpoint written before the option trained at 64 px
        var json = TinyStyleGan2D().ToJson();
        Assert.True(json.Remove("resolution"));
        Assert.Equal(64, BigGanTrainingOptions.FromJson(json).Resolution);

        var e = Assert.Throws<ArgumentException>(() => (TinyStyleGan2D() with { Resolution = 48 }).Validate());
        Assert.Contains("Resolution must be 32 or 64 (got 48)", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyBigGan() with { Resolution = 32 }).Validate());
        Assert.Contains("needs the stylegan2 discriminator", e.Message);
    }

    [Fact]
    public void D_sees_the_world_area_averaged_to_32px_and_a_world_drawing_read_back_at_32px_is_redrawn_as_itself() => SingleThreaded(() =>
    {
        using var trainer = new BigGanTrainer(TinyStyleGan2D() with { Resolution = 32, ZDim = 16 }, renderThreads: 1);
        var specs = Vocabulary.Kinds.Select((kind, k) =>
        {
            var background = Vocabulary.Backgrounds[k % Vocabulary.Backgrounds.Length];
            var colour = Vocabulary.Colors.Where(c => !Palette.Clashes(c, background)).ElementAt(k % 4);
            return SceneSpec.Single(kind, colour, ObjectSize.Big, Vocabulary.Positions[k % Vocabulary.Positions.Length], background);
        }).ToArray();
        using var scope = NewDisposeScope();
        var full = ClipartBatches.Render(specs, 1);
        var small = trainer.RenderScenes(specs);
        Assert.Equal([specs.Length, 3L, 32, 32], small.shape);
        // each 32-px pixel the mean of its four 64-px pixels
        var corner = full.narrow(2, 0, 2).narrow(3, 0, 2).mean([2L, 3L]);
        Assert.True((small.select(2, 0).select(2, 0) - corner).abs().max().item<float>() < 1e-6);
        Assert.True((small - F.avg_pool2d(full, 2)).abs().max().item<float>() < 1e-6);

        // a 32-px picture is read as the judge reads it (upsampled to 64), redrawn by the world and averaged back down:
        // the world's own drawing comes back as itself but for the outline's pixels
        var pictures = small * 2 - 1;
        using var ids = tensor(specs.Select(s => (long)ClipartClasses.Id(s.Objects[0].Kind, s.Objects[0].Color)).ToArray());
        var (target, mask) = trainer.RedrawnTargets(pictures, ids, specs);
        Assert.Equal([specs.Length, 3L, 32, 32], target.shape);
        Assert.Equal([specs.Length, 1L, 32, 32], mask.shape);
        Assert.True(mask.eq(0).logical_or(mask.eq(1)).all().item<bool>(), "the mask is 0 or 1");
        var errors = new double[specs.Length];
        for (int i = 0; i < specs.Length; i++)
        {
            var within = ((target[i] - pictures[i]).abs() * mask[i]).sum().item<float>() / (3 * mask[i].sum().item<float>());
            errors[i] = within;
            // a box read from the upsampled picture may be a 64-px pixel off, and a thin sun's rays fade at 32 px (its
            // error 0.29, the others' 0.02-0.17; at 64 px all are under 0.09)
            Assert.True(within < 0.35, $"{specs[i].Objects[0]}: mean |redrawn − drawn| over the mask {within:F3}");
            Assert.True(mask[i].sum().item<float>() > 9, $"{specs[i].Objects[0]}: the mask covers the object");
        }
        Assert.True(errors.Average() < 0.12, $"mean |redrawn − drawn| over the masks: {string.Join(", ", errors.Select(x => x.ToString("F3")))}");
        Assert.True((target - pictures).abs().mean().item<float>() < 0.02);
    });

    [Fact]
    public void A_32px_run_trains_with_every_tie_and_the_kind_classifier_and_exports_a_32px_file_the_judge_reads() => SingleThreaded(() => InTempDirectory(dir =>
    {
        var options = TinyStyleGan2D(steps: 3) with
        {
            Resolution = 32, ZDim = 16, FactorisedClasses = true, SceneTieWeight = 1, RedrawTieWeight = 1, PlaceTieWeight = 1,
            KindClassifierWeight = 0.3, KindStart = 1, KindPretrainSteps = 1,
        };
        using var trainer = new BigGanTrainer(options, renderThreads: 1);
        while (trainer.Step < 3)
        {
            var metrics = trainer.TrainStep();
            foreach (var key in new[] { "g_loss", "g_scene_tie", "g_redraw_tie", "g_place_tie", "d_kind", "d_real", "d_fake" })
                Assert.True(double.IsFinite(metrics[key]), $"step {trainer.Step}: {key} = {metrics[key]}");
            if (trainer.Step > 1) Assert.True(double.IsFinite(metrics["g_kind"]), "G's kind term from KindStart");
        }
        var path = Path.Combine(dir, "tiny-biggan-32.safetensors");
        trainer.Export(path);
        using var loaded = BigGanModel.Load(path);
        Assert.Equal(32, loaded.ImageSize);
        using var grid = BigGanClassAccuracy.OnePerClass(loaded, 0.5);
        Assert.Equal([120L, 3, 32, 32], grid.shape);
        // the judge reads the 32-px samples upsampled, as it reads any picture
        var judge = new SceneJudge(ObjectClassifier.LoadDefault());
        var r = BigGanClassAccuracy.Run(loaded, 8, 0.5, judge);
        Assert.Equal(8, r.Coverage.Count);
    }));
}
