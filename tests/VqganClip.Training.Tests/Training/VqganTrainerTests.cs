using TorchSharp;
using VqganClip.Training;
using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

[Collection("Training")]
public class VqganTrainerTests
{
    [Fact]
    public void A_few_steps_improve_held_out_reconstruction() => SingleThreaded(() =>
    {
        using var trainer = new VqganTrainer(TinyVqgan(steps: 12), renderThreads: 1);
        // Step 0 initialises the codebook from the data; measure after it, against the end.
        var first = trainer.TrainStep();
        double before = ReconstructionEval.Run(trainer.Model, 8, threads: 1).MeanPsnr;
        var losses = new List<double> { first["loss"] };
        while (trainer.Step < trainer.TotalSteps) losses.Add(trainer.TrainStep()["loss"]);
        double after = ReconstructionEval.Run(trainer.Model, 8, threads: 1).MeanPsnr;

        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        Assert.True(after > before + 1, $"held-out PSNR should rise by more than 1 dB: {before:0.00} -> {after:0.00} dB");
        Assert.True(losses.TakeLast(3).Average() < losses.Take(3).Average(), $"losses {string.Join(", ", losses.Select(l => l.ToString("0.000")))}");
    });

    [Fact]
    public void Untrained_norm_layers_start_at_torch_defaults()
    {
        // TorchSharp 0.107's GroupNorm leaves its affine parameters uninitialised; the trainer must not train from garbage.
        using var trainer = new VqganTrainer(TinyVqgan(), renderThreads: 1);
        foreach (var (name, p) in trainer.Model.named_parameters().Where(np => np.name.Contains("norm")))
        {
            float expected = name.EndsWith(".weight", StringComparison.Ordinal) ? 1f : 0f;
            Assert.True(p.eq(expected).all().item<bool>(), $"{name} should start at {expected}");
        }
    }

    [Fact]
    public void Resuming_from_a_checkpoint_continues_exactly() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            var options = TinyVqgan(steps: 5);
            // One run saves at step 3 and goes on to 5; a second process resumes the checkpoint to 5.
            // Stop at step 3: the codebook-usage window (restart check every 2 steps) spans the checkpoint.
            using var straight = new VqganTrainer(options, renderThreads: 1);
            for (int i = 0; i < 3; i++) straight.TrainStep();
            straight.SaveCheckpoint(dir);
            while (straight.Step < 5) straight.TrainStep();

            using var resumed = VqganTrainer.Resume(dir, renderThreads: 1);
            Assert.Equal(3, resumed.Step);
            Assert.Equal(options with { Model = resumed.Options.Model }, resumed.Options);
            while (resumed.Step < 5) resumed.TrainStep();

            var expected = straight.Model.state_dict();
            foreach (var (name, tensor) in resumed.Model.state_dict())
                Assert.True(Same(tensor, expected[name]), $"'{name}' differs after resuming");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Fact]
    public void Exported_model_reloads_through_VqganModel_Load_with_identical_outputs() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            using var trainer = new VqganTrainer(TinyVqgan(steps: 2), renderThreads: 1);
            trainer.TrainStep();
            var path = Path.Combine(dir, "tiny-vqgan.safetensors");
            trainer.Export(path);

            Assert.True(File.Exists(Path.ChangeExtension(path, ".yaml")), "the taming YAML is written beside the weights");
            Assert.Equal(Path.ChangeExtension(path, ".yaml"), VqganConfigDiscovery.FindBeside(path));
            var header = SafeTensors.ReadHeader(path);
            Assert.Contains(header.Tensors, t => t.Name == "quantize.embedding.weight");
            Assert.Contains(header.Tensors, t => t.Name == "encoder.conv_in.weight");

            using var loaded = VqganModel.Load(path);
            Assert.Equal(VqganConfig.VQModelTarget, loaded.Config.Target);
            Assert.Equal(trainer.Model.Config.DdConfig.ChMult, loaded.Config.DdConfig.ChMult);
            Assert.Equal(trainer.Model.Config.NEmbed, loaded.Config.NEmbed);

            using var _ = no_grad();
            var (specs, _) = ClipartBatches.HeldOut(2);
            using var x = ClipartBatches.Render(specs) * 2 - 1;
            trainer.Model.eval();
            var (zqA, idxA) = trainer.Model.EncodeQuantized(x);
            var (zqB, idxB) = loaded.EncodeQuantized(x);
            Assert.True(Same(idxA, idxB));
            using var a = trainer.Model.Decode(zqA);
            using var b = loaded.Decode(zqB);
            Assert.True(Same(a, b), "decoded images differ after reloading");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Fact]
    public void A_step_with_a_non_finite_gradient_is_skipped_not_applied() => SingleThreaded(() =>
    {
        // No codebook restarts here: they legitimately move unused entries on any step.
        using var trainer = new VqganTrainer(TinyVqgan(steps: 3) with { RestartEvery = 0 }, renderThreads: 1);
        trainer.TrainStep();
        var conv = trainer.Model.state_dict()["decoder.conv_out.weight"];
        using (no_grad()) conv[0, 0, 0, 0] = float.NaN;
        var before = trainer.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var result = trainer.TrainStep();
        Assert.Equal(1, result["skipped"]);
        foreach (var (name, tensor) in trainer.Model.state_dict())
            if (name != "decoder.conv_out.weight")
                Assert.True(Same(tensor, before[name]), $"'{name}' changed although the step was skipped");
    });

    [Fact]
    public void Initializing_from_an_export_copies_every_weight() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            var path = Path.Combine(dir, "start.safetensors");
            ExportTinyVqgan(path);
            using var second = new VqganTrainer(TinyVqgan(steps: 2) with { Seed = 99 }, renderThreads: 1);
            second.InitializeFrom(path);
            using var reference = VqganModel.Load(path);
            var expected = reference.state_dict();
            foreach (var (name, tensor) in second.Model.state_dict())
                Assert.True(Same(tensor, expected[name]), $"'{name}' was not copied");
            var codebook = second.Model.Codebook.detach().clone();
            second.TrainStep();   // step 0 must not replace the copied codebook with k-means centres
            Assert.True((second.Model.Codebook - codebook).abs().max().item<float>() < 0.05f);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Fact]
    public void A_decoder_only_run_keeps_every_code_and_trains_the_decoder() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            var path = Path.Combine(dir, "start.safetensors");
            ExportTinyVqgan(path);
            var options = TinyVqgan(steps: 8) with { DecoderOnly = true, RestartEvery = 0, CropSize = 0 };
            using var trainer = new VqganTrainer(options, renderThreads: 1);
            trainer.InitializeFrom(path);
            var start = trainer.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            double before = ReconstructionEval.Run(trainer.Model, 8, threads: 1).MeanPsnr;
            while (trainer.Step < trainer.TotalSteps) trainer.TrainStep();
            double after = ReconstructionEval.Run(trainer.Model, 8, threads: 1).MeanPsnr;
            Assert.True(after > before + 0.5, $"the decoder should draw its codes better: held-out PSNR {before:0.00} -> {after:0.00} dB");

            foreach (var (name, tensor) in trainer.Model.state_dict())
            {
                bool decodePath = name.StartsWith("decoder.", StringComparison.Ordinal) || name.StartsWith("post_quant_conv.", StringComparison.Ordinal);
                if (decodePath && name.EndsWith(".weight", StringComparison.Ordinal) && !name.Contains("norm"))
                    Assert.False(Same(tensor, start[name]), $"'{name}' is on the decode path and should train");
                if (!decodePath)
                    Assert.True(Same(tensor, start[name]), $"'{name}' (encoder, quant_conv or codebook) changed in a decoder-only run");
            }
            Assert.All(trainer.Model.named_parameters(), p => Assert.Equal(p.name.StartsWith("decoder.") || p.name.StartsWith("post_quant_conv."), p.parameter.requires_grad));

            // The option survives a checkpoint, and a resumed run trains the same part.
            trainer.SaveCheckpoint(Path.Combine(dir, "checkpoint"));
            using var resumed = VqganTrainer.Resume(Path.Combine(dir, "checkpoint"), steps: 10, renderThreads: 1);
            Assert.True(resumed.Options.DecoderOnly);
            Assert.False(resumed.Model.state_dict()["quantize.embedding.weight"].requires_grad);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Fact]
    public void A_decoder_only_run_refuses_random_weights_and_codebook_restarts()
    {
        var e1 = Assert.Throws<ArgumentException>(() => new VqganTrainer(TinyVqgan() with { DecoderOnly = true, RestartEvery = 2 }, renderThreads: 1));
        Assert.Contains("RestartEvery", e1.Message);
        using var trainer = new VqganTrainer(TinyVqgan() with { DecoderOnly = true, RestartEvery = 0 }, renderThreads: 1);
        var e2 = Assert.Throws<InvalidOperationException>(() => trainer.TrainStep());
        Assert.Contains("--init-from", e2.Message);
    }

    [Fact]
    public void Resume_names_the_problem_with_a_bad_folder()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-run-" + Guid.NewGuid().ToString("N"));
        var e1 = Assert.Throws<DirectoryNotFoundException>(() => VqganTrainer.Resume(missing));
        Assert.Contains(missing, e1.Message);

        var dir = TempDirectory();
        try
        {
            var e2 = Assert.Throws<InvalidDataException>(() => VqganTrainer.Resume(dir));
            Assert.Contains("state.json", e2.Message);

            File.WriteAllText(Path.Combine(dir, "state.json"), """{"format_version":1,"kind":"clip","step":3,"options":{}}""");
            var e3 = Assert.Throws<InvalidDataException>(() => VqganTrainer.Resume(dir));
            Assert.Contains("'clip'", e3.Message);
            Assert.Contains("'vqgan'", e3.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Taming_yaml_round_trips_through_VqganConfig()
    {
        var config = ClipartVqganArchitecture.Default;
        var parsed = VqganConfig.FromYaml(config.ToYaml());
        Assert.Equal(VqganConfig.VQModelTarget, parsed.Target);
        Assert.Equal(config.EmbedDim, parsed.EmbedDim);
        Assert.Equal(config.NEmbed, parsed.NEmbed);
        Assert.Equal(config.DdConfig with { ChMult = [], AttnResolutions = [] }, parsed.DdConfig with { ChMult = [], AttnResolutions = [] });
        Assert.Equal(config.DdConfig.ChMult, parsed.DdConfig.ChMult);
        Assert.Equal(config.DdConfig.AttnResolutions, parsed.DdConfig.AttnResolutions);
    }
}
