using VqganClip.Cli.Commands.Train;
using VqganClip.Guidance.Training;
using VqganClip.Models.Clip;
using static TorchSharp.torch;
using static VqganClip.Tests.Training.TrainingTestSupport;

namespace VqganClip.Tests.Training;

/// <summary>The trainer with openai/CLIP's ModifiedResNet image tower (BatchNorm: train mode only inside the loss).</summary>
[Collection("Training")]
public class ClipResNetTrainingTests
{
    private static ClipTrainingOptions TinyResNetClip(long steps) => TinyClip(steps) with
    {
        Model = ClipartClipArchitecture.ResNet(8, [1, 1, 1, 1]) with { EmbedDim = 32, TransformerLayers = 1 },
    };

    private static Tensor Buffer(ClipModel model, string name) => model.state_dict()[name];

    [Fact]
    public void Training_updates_the_batch_statistics_and_leaves_the_model_in_eval_mode() => SingleThreaded(() =>
    {
        using var trainer = new ClipTrainer(TinyResNetClip(steps: 3), renderThreads: 1);
        Assert.True(trainer.Model.Config.IsResNet);
        using var meanBefore = Buffer(trainer.Model, "visual.bn1.running_mean").clone();
        using var varBefore = Buffer(trainer.Model, "visual.bn1.running_var").clone();
        trainer.TrainStep();

        Assert.False(trainer.Model.training, "the model should be back in eval mode after a step");
        Assert.False(Same(meanBefore, Buffer(trainer.Model, "visual.bn1.running_mean")), "the step should move the stem's running mean");
        Assert.False(Same(varBefore, Buffer(trainer.Model, "visual.bn1.running_var")), "the step should move the stem's running variance");
        Assert.Equal(1L, Buffer(trainer.Model, "visual.bn1.num_batches_tracked").item<long>());

        // Evaluation sees eval mode: the running statistics stay put.
        using var meanAfterStep = Buffer(trainer.Model, "visual.layer2.0.bn2.running_mean").clone();
        var metrics = trainer.Evaluate(12);
        Assert.InRange(metrics["top1"], 0, 1);
        Assert.True(Same(meanAfterStep, Buffer(trainer.Model, "visual.layer2.0.bn2.running_mean")), "evaluation must not move the running statistics");
        Assert.Equal(1L, Buffer(trainer.Model, "visual.bn1.num_batches_tracked").item<long>());
    });

    [Fact]
    public void A_skipped_step_also_undoes_its_move_of_the_batch_statistics() => SingleThreaded(() =>
    {
        using var trainer = new ClipTrainer(TinyResNetClip(steps: 3), renderThreads: 1);
        trainer.TrainStep();
        using var mean = Buffer(trainer.Model, "visual.layer1.0.bn1.running_mean").clone();
        using var count = Buffer(trainer.Model, "visual.bn1.num_batches_tracked").clone();
        // A NaN after the trunk: the trunk's BatchNorms still see finite batches, but the loss is NaN.
        using (no_grad()) trainer.Model.state_dict()["visual.attnpool.c_proj.bias"].fill_(double.NaN);
        var metrics = trainer.TrainStep();
        Assert.Equal(1, metrics["skipped"]);
        Assert.True(Same(mean, Buffer(trainer.Model, "visual.layer1.0.bn1.running_mean")), "a skipped step must leave the running statistics as they were");
        Assert.True(Same(count, Buffer(trainer.Model, "visual.bn1.num_batches_tracked")));
    });

    [Fact]
    public void The_export_reloads_as_a_ModifiedResNet_CLIP_with_identical_features() => SingleThreaded(() =>
        InTempDirectory(dir =>
        {
            using var trainer = new ClipTrainer(TinyResNetClip(steps: 2), renderThreads: 1);
            trainer.TrainStep();
            var path = Path.Combine(dir, "tiny-rn-clip.safetensors");
            trainer.Export(path);

            using var loaded = ClipModel.Load(path);
            Assert.True(loaded.Config.IsResNet, $"inferred {loaded.Config.Describe()}");
            Assert.Equal(new[] { 1, 1, 1, 1 }, loaded.Config.VisionResNetLayers);
            Assert.Equal(8, loaded.Config.VisionWidth);
            Assert.Equal(4, loaded.Config.VisionHeads);   // the reference's width*32/64

            using var _ = no_grad();
            var (specs, _) = ClipartBatches.HeldOut(3);
            using var pixels = ClipModel.Normalize01(ClipartBatches.Render(specs));
            using var a = trainer.Model.EncodeImage(pixels);
            using var b = loaded.EncodeImage(pixels);
            Assert.True(Same(a, b), "image features differ after reloading (batch statistics not exported?)");
        }));

    [Fact]
    public void A_resumed_resnet_run_continues_exactly() => SingleThreaded(() =>
    {
        var resumed = AssertClipRunResumesExactly(TinyResNetClip(steps: 3), saveAt: 1, total: 3);
        Assert.Equal(new[] { 1, 1, 1, 1 }, resumed.Model.VisionResNetLayers);   // the block counts survive the saved options
    });

    [Fact]
    public void The_image_tower_options_build_the_named_architecture_or_name_the_bad_value()
    {
        var vit = ClipartClipArchitecture.Default;
        Assert.Equal(8, TrainClipCommand.ImageTower("vit", 8, 16, "1,1,1,1", vit).VisionPatchSize);
        var resnet = TrainClipCommand.ImageTower("ResNet", null, 16, "2, 2, 2, 2", vit);
        Assert.Equal(new[] { 2, 2, 2, 2 }, resnet.VisionResNetLayers);
        Assert.Equal(16, resnet.VisionWidth);
        Assert.Equal(8, resnet.VisionHeads);
        Assert.Equal(vit.EmbedDim, resnet.EmbedDim);
        Assert.Equal(vit.TransformerWidth, resnet.TransformerWidth);

        Assert.Contains("'conv'", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("conv", null, 16, "1,1,1,1", vit)).Message);
        Assert.Contains("--patch-size", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("resnet", 8, 16, "1,1,1,1", vit)).Message);
        Assert.Contains("'x'", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("resnet", null, 16, "1,x,1,1", vit)).Message);
        Assert.Contains("four", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("resnet", null, 16, "1,1,1", vit)).Message);
        Assert.Contains("--resnet-width", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("resnet", null, 15, "1,1,1,1", vit)).Message);

        var fine = TrainClipCommand.ImageTower("resnet", null, 16, "1,1,1,1", vit, imageSize: 128);
        Assert.Equal(128, fine.ImageResolution);
        Assert.Equal(4, fine.GridSize);   // 128/32: a 4x4 final grid where 64 pixels give 2x2
        Assert.Equal(64, resnet.ImageResolution);
        Assert.Contains("--image-size", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("resnet", null, 16, "1,1,1,1", vit, imageSize: 100)).Message);
        Assert.Contains("--image-size", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("resnet", null, 16, "1,1,1,1", vit, imageSize: 32)).Message);
        Assert.Contains("--image-size", Assert.Throws<ArgumentException>(() => TrainClipCommand.ImageTower("vit", null, 16, "1,1,1,1", vit, imageSize: 128)).Message);
    }

    [Fact]
    public void A_resnet_at_twice_the_scene_size_trains_on_upsampled_views_and_reloads_at_that_size() => SingleThreaded(() =>
        InTempDirectory(dir =>
        {
            var options = TinyResNetClip(steps: 2) with
            {
                Model = ClipartClipArchitecture.ResNet(8, [1, 1, 1, 1], resolution: 128) with { EmbedDim = 32, TransformerLayers = 1 },
            };
            using var trainer = new ClipTrainer(options, renderThreads: 1);
            Assert.True(double.IsFinite(trainer.TrainStep()["loss"]));
            var path = Path.Combine(dir, "tiny-rn128-clip.safetensors");
            trainer.Export(path);

            using var loaded = ClipModel.Load(path);
            Assert.Equal(128, loaded.ImageSize);   // inferred from the attention pool's 4x4+1 positions
            Assert.Equal(4, loaded.Config.GridSize);

            // The trainer shows the CLIP its 64-pixel views upsampled bilinearly with half-pixel centres (as guidance's
            // cutouts resample): output pixel 20 lies at source 9.75, three quarters pixel 10 and a quarter pixel 9.
            using var _ = no_grad();
            using var generator = new Generator(7);
            using var views = rand([1, 3, 64, 64], generator: generator);
            using var upsampled = ClipTrainer.AtModelSize(loaded, views);
            Assert.Equal(new long[] { 1, 3, 128, 128 }, upsampled.shape);
            float V(int y, int x) => views[0, 1, y, x].item<float>();
            float expected = 0.75f * (0.75f * V(10, 10) + 0.25f * V(10, 9)) + 0.25f * (0.75f * V(9, 10) + 0.25f * V(9, 9));
            Assert.Equal(expected, upsampled[0, 1, 20, 20].item<float>(), 5);
            Assert.True(ReferenceEquals(upsampled, ClipTrainer.AtModelSize(loaded, upsampled)), "views already at the CLIP's size pass through");
        }));
}
