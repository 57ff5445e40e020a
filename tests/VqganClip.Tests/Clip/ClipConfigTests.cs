using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.Clip;

public class ClipConfigTests
{
    [Fact]
    public void Hugging_Face_names_map_to_openai_shapes()
    {
        using var hf = SafeTensors.Read(ClipTestSupport.Fixture("hf_model.safetensors"));
        using var openai = SafeTensors.Read(ClipTestSupport.Fixture("openai.safetensors"));
        var hfShapes = hf.Entries.Where(kv => !kv.Key.EndsWith("position_ids", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var mapped = HuggingFaceClipKeys.ToOpenAIShapes(hfShapes);
        Assert.Equal(openai.Keys.OrderBy(k => k, StringComparer.Ordinal), mapped.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, tensor) in openai.Entries)
            Assert.True(tensor.shape.SequenceEqual(mapped[name]), $"{name}: {string.Join(",", tensor.shape)} vs {string.Join(",", mapped[name])}");
    }

    [Fact]
    public void Hugging_Face_tensors_convert_to_the_openai_values()
    {
        using var hf = SafeTensors.Read(ClipTestSupport.Fixture("hf_model.safetensors"));
        using var openai = SafeTensors.Read(ClipTestSupport.Fixture("openai.safetensors"));
        using var converted = ClipStateDict.ToOpenAILayout(hf, out var layout);
        Assert.Equal(ClipLayout.HuggingFace, layout);
        foreach (var (name, tensor) in openai.Entries)
            ClipTestSupport.AssertClose(converted[name], tensor, 0, 0, $"{name} after conversion");
    }

    [Fact]
    public void Try_infer_recognises_clip_and_rejects_other_files()
    {
        using var clip = SafeTensors.Read(ClipTestSupport.Fixture("hf_model.safetensors"));
        Assert.True(ClipConfig.TryInferFromStateDict(clip, out var config, out var problem, new ClipConfigHints { TextHeads = 2, VisionHeads = 1 }), problem);
        Assert.Equal(32, config!.EmbedDim);

        using var vqgan = SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "vqgan-f16-tiny", "model.safetensors"));
        Assert.False(ClipConfig.TryInferFromStateDict(vqgan, out var none, out problem));
        Assert.Null(none);
        Assert.Contains("VQGAN", problem);
    }

    [Fact]
    public void Side_configs_are_read_in_their_three_forms()
    {
        var hf = ClipSideConfig.Parse(File.ReadAllText(ClipTestSupport.Fixture("hf_config.json")), "hf")!;
        Assert.Equal(2, hf.TextHeads);
        Assert.Equal(1, hf.VisionHeads);
        Assert.Equal(ClipActivation.QuickGelu, hf.TextActivation);
        Assert.Equal(1e-5, hf.TextLayerNormEps);

        var openClip = ClipSideConfig.Parse("""{"model_cfg": {"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32}, "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}}""", "oc")!;
        Assert.Equal(8, openClip.TextHeads);
        Assert.Equal(12, openClip.VisionHeads);
        Assert.Equal(ClipActivation.Gelu, openClip.VisionActivation); // open_clip's default without quick_gelu

        var manifest = ClipSideConfig.Parse(File.ReadAllText(ClipTestSupport.Fixture("manifest.json")), "manifest")!;
        Assert.Equal(2, manifest.TextHeads);

        Assert.Null(ClipSideConfig.Parse("""{"model": {"base_learning_rate": 1}}""", "other"));
    }

    [Fact]
    public void Gelu_activation_from_a_config_changes_the_model()
    {
        using var quick = ClipModel.Load(ClipTestSupport.Fixture("openai.safetensors"));
        using var gelu = ClipModel.Load(ClipTestSupport.Fixture("openai.safetensors"), options: new ClipLoadOptions
        {
            Hints = new ClipConfigHints { VisionActivation = ClipActivation.Gelu, TextActivation = ClipActivation.Gelu },
        });
        Assert.Equal(ClipActivation.Gelu, gelu.Config.VisionActivation);
        Assert.Equal(2, gelu.Config.TransformerHeads); // the rest still comes from hf_config.json beside the file
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var images = torch.randn(1, 3, 32, 32);
        Assert.False(torch.allclose(quick.EncodeImage(images), gelu.EncodeImage(images), 1e-6, 1e-6));
    }

    [Fact]
    public void Published_configs_follow_the_reference_head_rules()
    {
        Assert.Equal(12, ClipConfig.ViTB32.VisionHeads);
        Assert.Equal(16, ClipConfig.ViTL14.VisionHeads);
        Assert.Equal(32, ClipConfig.RN50.VisionHeads);
        Assert.Equal(64, ClipConfig.RN50x64.VisionHeads);
        Assert.Equal(336, ClipConfig.ViTL14At336.ImageResolution);
        Assert.Equal(24, ClipConfig.ViTL14At336.GridSize);
        Assert.Equal(12, ClipConfig.RN50x16.GridSize);
        foreach (var (name, config) in ClipConfig.Published)
        {
            config.Validate();
            Assert.Equal(config.TransformerWidth / 64, config.TransformerHeads);
            Assert.Equal(name, config.PublishedName);
        }
    }
}

public class ClipHalfPrecisionTests : ClipTempFolderTest
{
    [Fact]
    public void Half_precision_weights_load_as_float32_and_stay_close()
    {
        // OpenAI distributes fp16 weights (convert_weights); the model always computes in float32.
        using var source = SafeTensors.Read(ClipTestSupport.Fixture("openai.safetensors"));
        var dir = NewTempDir();
        var path = Path.Combine(dir, "half.safetensors");
        using (var scope = torch.NewDisposeScope())
            SafeTensors.Write(path, source.Entries.Select(kv => (kv.Key, kv.Value.to(ScalarType.Float16))), null);
        File.Copy(ClipTestSupport.Fixture("hf_config.json"), Path.Combine(dir, "config.json"));

        using var half = ClipModel.Load(path);
        using var full = ClipModel.Load(ClipTestSupport.Fixture("openai.safetensors"));
        Assert.All(half.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        using var io = SafeTensors.Read(ClipTestSupport.Fixture("io.safetensors"));
        using var _ = torch.no_grad();
        using var s = torch.NewDisposeScope();
        ClipTestSupport.AssertClose(half.EncodeImage(io["inputs.images"]), full.EncodeImage(io["inputs.images"]), 2e-2, 2e-2, "fp16 weights");
    }
}

public class ClipPrefixTests : ClipTempFolderTest
{
    [Fact]
    public void DataParallel_module_prefix_is_stripped()
    {
        using var source = SafeTensors.Read(ClipTestSupport.Fixture("openai.safetensors"));
        var dir = NewTempDir();
        var path = Path.Combine(dir, "wrapped.safetensors");
        SafeTensors.Write(path, source.Entries.Select(kv => ("module." + kv.Key, kv.Value)), null);
        using var model = ClipModel.Load(path, options: new ClipLoadOptions { Hints = new ClipConfigHints { TextHeads = 2 } });
        Assert.Equal(32, model.EmbedDim);
    }

    [Fact]
    public void Jit_archive_holds_the_same_weights_plus_only_ignorable_entries()
    {
        using var jit = Checkpoint.Load(ClipTestSupport.Fixture("openai_jit.pt"));
        using var plain = SafeTensors.Read(ClipTestSupport.Fixture("openai.safetensors"));
        var extra = jit.Keys.Except(plain.Keys).ToList();
        Assert.All(extra, k => Assert.Contains(k, ClipStateDict.IgnoredKeys));
        Assert.Empty(plain.Keys.Except(jit.Keys));
    }
}
