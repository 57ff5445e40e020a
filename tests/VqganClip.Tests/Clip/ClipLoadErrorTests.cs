using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.Clip;

/// <summary>A file that is not exactly a CLIP is refused with a message naming the tensor / the problem.</summary>
public class ClipLoadErrorTests : ClipTempFolderTest
{
    private static readonly ClipLoadOptions TinyHeads = new() { Hints = new ClipConfigHints { TextHeads = 2 }, SearchSideConfig = false };

    /// <summary>Writes the tiny OpenAI state dict after <paramref name="edit"/> into a fresh folder.</summary>
    private string WriteEdited(Action<Dictionary<string, Tensor>> edit)
    {
        using var source = SafeTensors.Read(ClipTestSupport.Fixture("openai.safetensors"));
        var tensors = source.Entries.ToDictionary(kv => kv.Key, kv => kv.Value);
        edit(tensors);
        var path = Path.Combine(NewTempDir(), "edited.safetensors");
        SafeTensors.Write(path, tensors.Select(kv => (kv.Key, kv.Value)), null);
        return path;
    }

    [Fact]
    public void Missing_tensor_is_named_with_its_expected_shape()
    {
        var path = WriteEdited(t => t.Remove("visual.transformer.resblocks.1.mlp.c_proj.bias"));
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path, options: TinyHeads));
        Assert.Contains("missing 1 tensor(s): visual.transformer.resblocks.1.mlp.c_proj.bias [64]", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Unexpected_tensor_is_named()
    {
        using var extra = torch.zeros(3);
        var path = WriteEdited(t => t["visual.extra_head.weight"] = extra);
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path, options: TinyHeads));
        Assert.Contains("unexpected 1 tensor(s): visual.extra_head.weight [3]", e.Message);
    }

    [Fact]
    public void Wrong_shape_names_expected_and_actual()
    {
        using var wrong = torch.ones(63);
        var path = WriteEdited(t => t["visual.ln_post.weight"] = wrong);
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path, options: TinyHeads));
        Assert.Contains("visual.ln_post.weight: expected [64], got [63]", e.Message);
    }

    [Fact]
    public void Missing_inference_tensor_is_named()
    {
        var path = WriteEdited(t => t.Remove("ln_final.weight"));
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path, options: TinyHeads));
        Assert.Contains("'ln_final.weight' is missing", e.Message);
    }

    [Fact]
    public void A_VQGAN_checkpoint_is_reported_as_not_CLIP()
    {
        var vqgan = Path.Combine(AppContext.BaseDirectory, "fixtures", "vqgan-f16-tiny", "model.safetensors");
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(vqgan));
        Assert.Contains("not a CLIP checkpoint", e.Message);
        Assert.Contains("no visual.* / text keys found", e.Message);
        Assert.Contains("VQGAN", e.Message);
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        var path = Path.Combine(NewTempDir(), "nope.pt");
        var e = Assert.Throws<FileNotFoundException>(() => ClipModel.Load(path));
        Assert.Contains("nope.pt", e.Message);
    }

    [Fact]
    public void Text_heads_that_cannot_be_inferred_ask_for_a_config()
    {
        // Copied alone: no hf_config.json beside it, and width 16 / 64 = 0 heads.
        var path = Path.Combine(NewTempDir(), "alone.safetensors");
        File.Copy(ClipTestSupport.Fixture("openai.safetensors"), path);
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path));
        Assert.Contains("text heads", e.Message);
        Assert.Contains("config.json", e.Message);

        // A Hugging Face config.json beside it is enough.
        File.Copy(ClipTestSupport.Fixture("hf_config.json"), Path.Combine(Path.GetDirectoryName(path)!, "config.json"));
        using var model = ClipModel.Load(path);
        Assert.Equal(2, model.Config.TransformerHeads);
    }

    [Fact]
    public void Hugging_Face_file_with_a_missing_k_projection_is_named()
    {
        using var source = SafeTensors.Read(ClipTestSupport.Fixture("hf_model.safetensors"));
        var tensors = source.Entries.Where(kv => kv.Key != "text_model.encoder.layers.1.self_attn.k_proj.weight").ToList();
        var dir = NewTempDir();
        var path = Path.Combine(dir, "model.safetensors");
        SafeTensors.Write(path, tensors.Select(kv => (kv.Key, kv.Value)), null);
        File.Copy(ClipTestSupport.Fixture("hf_config.json"), Path.Combine(dir, "config.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path));
        Assert.Contains("text_model.encoder.layers.1.self_attn.k_proj.weight", e.Message);
    }
}
