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

    [Fact]
    public void A_second_transformer_over_another_first_stage_of_the_same_name_keeps_the_first_ones_file() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            // two VQGANs of one file name in two run folders, a GPT over each exported into one folder
            var stageA = Path.Combine(dir, "runs", "a", "vq.safetensors");
            var stageB = Path.Combine(dir, "runs", "b", "vq.safetensors");
            ExportTinyVqgan(stageA);
            ExportTinyVqgan(stageB, steps: 2);
            var exportA = Path.Combine(dir, "out", "gpt-a.safetensors");
            var exportB = Path.Combine(dir, "out", "gpt-b.safetensors");
            using (var trainerA = TinyTransformerAfterOneStep(stageA)) trainerA.Export(exportA);
            var besideA = File.ReadAllBytes(Path.Combine(dir, "out", "vq.safetensors"));
            using (var trainerB = TinyTransformerAfterOneStep(stageB))
            {
                trainerB.Export(exportB);
                trainerB.Export(exportB);   // exported again (as the periodic and the final exports do): the same names
            }

            Assert.Equal(besideA, File.ReadAllBytes(Path.Combine(dir, "out", "vq.safetensors")));
            Assert.Contains("ckpt_path: vq.safetensors", File.ReadAllText(Path.ChangeExtension(exportA, ".yaml")));
            Assert.Contains("ckpt_path: gpt-b-first-stage.safetensors", File.ReadAllText(Path.ChangeExtension(exportB, ".yaml")));
            Assert.False(File.Exists(Path.Combine(dir, "out", "gpt-b-first-stage-first-stage.safetensors")));
            foreach (var (export, stage) in new[] { (exportA, stageA), (exportB, stageB) })
            {
                using var loaded = Net2NetTransformer.Load(export);
                using var original = VqganModel.Load(stage);
                var reloaded = loaded.FirstStage.state_dict();
                foreach (var (name, tensor) in original.state_dict())
                    Assert.True(Same(tensor, reloaded[name]), $"{Path.GetFileName(export)}: first stage tensor {name} is not its own VQGAN's");
            }
            using (var a = VqganModel.Load(stageA))
            using (var b = VqganModel.Load(stageB))
                Assert.False(Same(a.state_dict()["encoder.conv_in.weight"], b.state_dict()["encoder.conv_in.weight"]), "the two first stages must differ for this test");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

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
