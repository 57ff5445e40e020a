using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.Clip;

/// <summary>The tiny ViT CLIP in every distributed format against openai/CLIP's own outputs and gradients.</summary>
public class ClipParityTests
{
    public static TheoryData<string> Formats => new() { "openai.safetensors", "openai_state_dict.pt", "openai_jit.pt", "hf_model.safetensors" };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Matches_reference_features_logits_and_input_gradient(string file)
    {
        var (abs, rel) = ClipTestSupport.Tolerance();
        using var io = SafeTensors.Read(ClipTestSupport.Fixture("io.safetensors"));
        using var model = ClipModel.Load(ClipTestSupport.Fixture(file));
        using var scope = torch.NewDisposeScope();

        var images = io["inputs.images"];
        var tokens = io["inputs.tokens"];

        using (torch.no_grad())
        {
            ClipTestSupport.AssertClose(model.EncodeImage(images), io["outputs.image_features"], abs, rel, $"{file} image_features");
            ClipTestSupport.AssertClose(model.EncodeText(tokens), io["outputs.text_features"], abs, rel, $"{file} text_features");
            var (perImage, perText) = model.Forward(images, tokens);
            ClipTestSupport.AssertClose(perImage, io["outputs.logits_per_image"], abs, rel, $"{file} logits_per_image");
            ClipTestSupport.AssertClose(perText, io["outputs.logits_per_text"], abs, rel, $"{file} logits_per_text");
        }

        // d/d images of sum_i cos(encode_image(images)_i, encode_text(tokens[:1]))
        var input = images.detach().clone().requires_grad_(true);
        var imageFeatures = model.EncodeImage(input);
        var textFeatures = model.EncodeText(tokens[..1]);
        var cosines = nn.functional.cosine_similarity(imageFeatures, textFeatures, dim: -1);
        cosines.sum().backward();
        ClipTestSupport.AssertClose(input.grad!, io["outputs.image_grad"], abs, rel, $"{file} image_grad");

        // Frozen: the gradient reached the input only.
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Infers_the_manifest_config(string file)
    {
        var expected = ClipTestSupport.ManifestConfig();
        using var model = ClipModel.Load(ClipTestSupport.Fixture(file));
        var c = model.Config;
        Assert.False(c.IsResNet);
        Assert.Equal(expected.GetProperty("embed_dim").GetInt32(), c.EmbedDim);
        Assert.Equal(expected.GetProperty("image_resolution").GetInt32(), c.ImageResolution);
        Assert.Equal(expected.GetProperty("vision_layers").GetInt32(), c.VisionLayers);
        Assert.Equal(expected.GetProperty("vision_width").GetInt32(), c.VisionWidth);
        Assert.Equal(expected.GetProperty("vision_patch_size").GetInt32(), c.VisionPatchSize);
        Assert.Equal(expected.GetProperty("context_length").GetInt32(), c.ContextLength);
        Assert.Equal(expected.GetProperty("vocab_size").GetInt32(), c.VocabSize);
        Assert.Equal(expected.GetProperty("transformer_width").GetInt32(), c.TransformerWidth);
        Assert.Equal(expected.GetProperty("transformer_heads").GetInt32(), c.TransformerHeads);
        Assert.Equal(expected.GetProperty("transformer_layers").GetInt32(), c.TransformerLayers);
        Assert.Equal(expected.GetProperty("vision_width").GetInt32() / 64, c.VisionHeads);
        Assert.Equal(ClipActivation.QuickGelu, c.VisionActivation);
        Assert.Equal(model.ImageSize, c.ImageResolution);
        Assert.Equal(model.EmbedDim, c.EmbedDim);
        Assert.Equal(model.ContextLength, c.ContextLength);
        Assert.Equal(1 / 0.07, model.LogitScale, 3);
    }

    [Fact]
    public void SetTrainable_unfreezes_and_refreezes_parameters()
    {
        using var model = ClipModel.Load(ClipTestSupport.Fixture("openai.safetensors"));
        Assert.False(model.IsTrainable);
        model.SetTrainable(true);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        model.SetTrainable(false);
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Normalize_applies_clip_mean_and_std()
    {
        using var scope = torch.NewDisposeScope();
        using var model = ClipModel.Load(ClipTestSupport.Fixture("openai.safetensors"));
        var pixels = torch.ones(1, 3, 2, 2);
        var normalized = model.Normalize(pixels);
        for (int c = 0; c < 3; c++)
            Assert.Equal((1 - ClipModel.PixelMean[c]) / ClipModel.PixelStd[c], normalized[0, c, 1, 1].item<float>(), 5);
    }

    [Fact]
    public void Rejects_images_of_the_wrong_size_and_tokens_of_the_wrong_length()
    {
        using var scope = torch.NewDisposeScope();
        using var model = ClipModel.Load(ClipTestSupport.Fixture("openai.safetensors"));
        var e = Assert.Throws<ArgumentException>(() => model.EncodeImage(torch.zeros(1, 3, 31, 31)));
        Assert.Contains("[N,3,32,32]", e.Message);
        var t = Assert.Throws<ArgumentException>(() => model.EncodeText(torch.zeros(1, 10, dtype: ScalarType.Int64)));
        Assert.Contains("[N,77]", t.Message);
    }
}
