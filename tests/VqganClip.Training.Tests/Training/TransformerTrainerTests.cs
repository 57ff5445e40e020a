using VqganClip.Clipart;
using VqganClip.Models.IO;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>The transformer trainer's export: the GPT's file and its first stage's own file, which the YAML names.</summary>
public sealed class TransformerTrainerTests
{
    private static readonly string[] Words = ["a", "red", "blue", "circle", "star", "on", "left", "right"];

    [Fact]
    public void The_export_writes_the_first_stage_beside_the_transformer_and_reloads_identically() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            var firstStagePath = Path.Combine(dir, "runs", "tiny-vqgan.safetensors");
            ExportTinyVqgan(firstStagePath);
            using var trainer = TinyTransformerAfterOneStep(firstStagePath);
            var path = Path.Combine(dir, "data", "tiny-transformer.safetensors");
            trainer.Export(path);

            var firstStageCopy = Path.Combine(dir, "data", "tiny-vqgan.safetensors");
            Assert.True(File.Exists(firstStageCopy), "the first stage is written beside the transformer");
            Assert.True(File.Exists(Path.ChangeExtension(firstStageCopy, ".yaml")));
            Assert.Contains("ckpt_path: tiny-vqgan.safetensors", File.ReadAllText(Path.ChangeExtension(path, ".yaml")));
            Assert.DoesNotContain(SafeTensors.ReadHeader(path).Tensors, t => t.Name.StartsWith(Net2NetTransformer.FirstStagePrefix, StringComparison.Ordinal));

            using var original = VqganModel.Load(firstStagePath);
            using var loaded = Net2NetTransformer.Load(path);
            var reloaded = loaded.FirstStage.state_dict();
            foreach (var (name, tensor) in original.state_dict())
                Assert.True(Same(tensor, reloaded[name]), $"first stage tensor {name} changed on the way through the export");
            var trained = trainer.Model.Transformer.state_dict();
            foreach (var (name, tensor) in loaded.Transformer.state_dict())
                Assert.True(Same(trained[name], tensor), $"GPT tensor {name} differs after reloading");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Fact]
    public void A_first_stage_already_beside_the_export_is_left_byte_for_byte() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            // as the shipped recipe runs it: data/clipart-vqgan.safetensors is the first stage, the export goes beside it
            var firstStagePath = Path.Combine(dir, "data", "tiny-vqgan.safetensors");
            ExportTinyVqgan(firstStagePath);
            var before = File.ReadAllBytes(firstStagePath);
            var yamlBefore = File.ReadAllBytes(Path.ChangeExtension(firstStagePath, ".yaml"));
            using var trainer = TinyTransformerAfterOneStep(firstStagePath);
            var path = Path.Combine(dir, "data", "tiny-transformer.safetensors");
            trainer.Export(path);

            Assert.Equal(before, File.ReadAllBytes(firstStagePath));
            Assert.Equal(yamlBefore, File.ReadAllBytes(Path.ChangeExtension(firstStagePath, ".yaml")));
            Assert.Contains("ckpt_path: tiny-vqgan.safetensors", File.ReadAllText(Path.ChangeExtension(path, ".yaml")));
            using var loaded = Net2NetTransformer.Load(path);
            using var original = VqganModel.Load(firstStagePath);
            var reloaded = loaded.FirstStage.state_dict();
            foreach (var (name, tensor) in original.state_dict())
                Assert.True(Same(tensor, reloaded[name]), $"first stage tensor {name} differs when loaded through the transformer");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    /// <summary>A tiny VQGAN after one training step, exported to <paramref name="path"/> (+ its YAML).</summary>
    private static void ExportTinyVqgan(string path)
    {
        using var vqgan = new VqganTrainer(TinyVqgan(steps: 1), renderThreads: 1);
        vqgan.TrainStep();
        vqgan.Export(path);
    }

    /// <summary>A one-layer GPT trainer over <paramref name="firstStage"/>, one step taken.</summary>
    private static TransformerTrainer TinyTransformerAfterOneStep(string firstStage)
    {
        var options = new TransformerTrainingOptions
        {
            FirstStage = firstStage, Steps = 2, BatchSize = 2, WarmupSteps = 1, Layers = 1, Heads = 1, Width = 16,
        };
        var trainer = new TransformerTrainer(options, Words, renderThreads: 1);
        trainer.TrainStep();
        return trainer;
    }

    [Theory]
    [InlineData("runs/clipart-vqgan-f8.safetensors", "clipart-transformer.safetensors", "clipart-vqgan-f8.safetensors")]
    [InlineData("runs/last.ckpt", "data/model.safetensors", "last.safetensors")]
    [InlineData("runs/model.ckpt", "data/model.safetensors", "model-first-stage.safetensors")]
    public void The_first_stage_file_is_named_after_the_first_stage_unless_that_is_the_exports_name(string firstStage, string export, string expected) =>
        Assert.Equal(expected, TransformerTrainer.FirstStageFileName(firstStage, export));
}
