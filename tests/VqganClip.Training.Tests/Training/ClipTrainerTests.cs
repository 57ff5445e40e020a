using TorchSharp;
using VqganClip.Training;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

[Collection("Training")]
public class ClipTrainerTests
{
    [Fact]
    public void A_few_steps_lower_the_held_out_contrastive_loss() => SingleThreaded(() =>
    {
        using var trainer = new ClipTrainer(TinyClip(steps: 15) with { BatchSize = 16 }, renderThreads: 1);
        double before = ClipTrainer.HeldOutLoss(trainer.Model, 32);
        var losses = new List<double>();
        while (trainer.Step < trainer.TotalSteps) losses.Add(trainer.TrainStep()["loss"]);
        double after = ClipTrainer.HeldOutLoss(trainer.Model, 32);

        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        Assert.True(after < before - 0.05, $"held-out contrastive loss should fall: {before:0.000} -> {after:0.000}");
    });

    [Fact]
    public void Logit_scale_starts_at_one_over_0_07_and_never_exceeds_100() => SingleThreaded(() =>
    {
        using var trainer = new ClipTrainer(TinyClip(steps: 2), renderThreads: 1);
        Assert.Equal(1 / 0.07, trainer.Model.LogitScale, 3);
        using (no_grad()) trainer.Model.logit_scale.fill_(10.0);   // far above ln(100)
        trainer.TrainStep();
        Assert.True(trainer.Model.LogitScale <= 100.0001, $"logit scale {trainer.Model.LogitScale} should be clamped at 100");
    });

    [Fact]
    public void Resuming_from_a_checkpoint_continues_exactly() => SingleThreaded(() =>
        // One run saves at step 2 and goes on to 4; a second trainer resumes the checkpoint to 4.
        AssertClipRunResumesExactly(TinyClip(steps: 4), saveAt: 2, total: 4));

    [Fact]
    public void Exported_model_reloads_through_ClipModel_Load_with_identical_outputs() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            using var trainer = new ClipTrainer(TinyClip(steps: 2), renderThreads: 1);
            trainer.TrainStep();
            var path = Path.Combine(dir, "tiny-clip.safetensors");
            trainer.Export(path);

            var header = SafeTensors.ReadHeader(path);
            Assert.Equal("F16", header.Tensors.Single(t => t.Name == "token_embedding.weight").Info.DType.SafeTensorsName);
            Assert.Equal("F32", header.Tensors.Single(t => t.Name == "positional_embedding").Info.DType.SafeTensorsName);

            using var loaded = ClipModel.Load(path);
            Assert.True(loaded.Config.SameArchitecture(trainer.Model.Config), $"inferred {loaded.Config.Describe()}");
            Assert.Equal(32, loaded.ContextLength);

            using var _ = no_grad();
            var (specs, captions) = ClipartBatches.HeldOut(3);
            using var pixels = ClipModel.Normalize01(ClipartBatches.Render(specs));
            // A 32-token context end to end: tokenizer, positional embedding, EOT pooling.
            using var tokens = ClipTokenizer.Default.Tokenize(captions, loaded.ContextLength);
            Assert.Equal(new long[] { 3, 32 }, tokens.shape);
            using var imageA = trainer.Model.EncodeImage(pixels);
            using var imageB = loaded.EncodeImage(pixels);
            using var textA = trainer.Model.EncodeText(tokens);
            using var textB = loaded.EncodeText(tokens);
            Assert.True(Same(imageA, imageB), "image features differ after reloading");
            Assert.True(Same(textA, textB), "text features differ after reloading (token table not float16-exact?)");
            Assert.Equal(trainer.Model.LogitScale, loaded.LogitScale);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });
}
