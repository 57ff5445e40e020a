using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.Clip;

public class ClipPreprocessTests
{
    [Fact]
    public void Center_crop_uses_torchvision_offsets_when_no_resize_is_needed()
    {
        using var scope = torch.NewDisposeScope();
        var image = torch.rand(1, 3, 32, 48);
        var cropped = ClipPreprocess.ResizeAndCenterCrop(image, 32);
        Assert.Equal([1L, 3L, 32L, 32L], cropped.shape);
        ClipTestSupport.AssertClose(cropped, image[.., .., .., 8..40], 0, 0, "center crop");
    }

    [Fact]
    public void Short_side_is_resized_then_cropped()
    {
        using var scope = torch.NewDisposeScope();
        var constant = torch.full(3, 100, 60, 0.25f);
        var result = ClipPreprocess.ResizeAndCenterCrop(constant, 30);
        Assert.Equal([1L, 3L, 30L, 30L], result.shape);
        ClipTestSupport.AssertClose(result, torch.full(1, 3, 30, 30, 0.25f), 1e-6, 0, "constant image");

        // A vertical ramp keeps its centre value at the centre after resize + crop.
        var ramp = torch.linspace(0, 1, 200).view(1, 1, 200, 1).expand(1, 3, 200, 100).contiguous();
        var r = ClipPreprocess.ResizeAndCenterCrop(ramp, 50);
        Assert.Equal(0.5f, r[0, 0, 24, 25].item<float>() / 2 + r[0, 0, 25, 25].item<float>() / 2, 2);
    }

    [Fact]
    public void Zero_shot_agrees_with_the_reference_logits()
    {
        using var io = SafeTensors.Read(ClipTestSupport.Fixture("io.safetensors"));
        using var model = ClipModel.Load(ClipTestSupport.Fixture("openai.safetensors"));
        using var scope = torch.NewDisposeScope();
        // Undo the normalization the fixture applied, to feed [0,1] pixels (already at 32x32: no resize).
        var mean = torch.tensor(ClipModel.PixelMean).view(1, 3, 1, 1);
        var std = torch.tensor(ClipModel.PixelStd).view(1, 3, 1, 1);
        var images01 = io["inputs.images"] * std + mean;
        var result = ZeroShot.Score(model, images01, ["a diagram", "a dog", "a cat"]);

        var logits = io["outputs.logits_per_image"];
        var (abs, rel) = ClipTestSupport.Tolerance();
        ClipTestSupport.AssertClose(torch.tensor(result.Cosines.SelectMany(r => r).ToArray()).view(2, 3), logits / model.LogitScale, abs, rel, "cosines");
        ClipTestSupport.AssertClose(torch.tensor(result.Probabilities.SelectMany(r => r).ToArray()).view(2, 3), torch.softmax(logits, -1), abs, rel, "probabilities");
        Assert.Equal(1.0, result.Probabilities[0].Sum(), 5);
        Assert.Equal(result.Probabilities[1].Max(), result.Probabilities[1][result.Ranking(1)[0]]);
    }
}
