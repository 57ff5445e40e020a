using TorchSharp;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;

namespace VqganClip.Tests.Clip;

/// <summary>
/// open_clip families whose keys start like CLIP's but whose towers are not CLIP's: named as what they are,
/// with what is supported, instead of "text_projection is missing". Key names as open_clip writes them.
/// </summary>
public class UnsupportedClipVariantTests : ClipTempFolderTest
{
    private static readonly string[] TextTransformer =
    [
        "token_embedding.weight", "positional_embedding", "transformer.resblocks.0.attn.in_proj_weight",
        "transformer.resblocks.0.mlp.c_fc.weight", "ln_final.weight", "ln_final.bias", "text_projection",
    ];

    private static readonly string[] TimmTower =
    [
        "visual.trunk.cls_token", "visual.trunk.pos_embed", "visual.trunk.patch_embed.proj.weight",
        "visual.trunk.blocks.0.attn.qkv.weight", "visual.trunk.norm.weight", "visual.head.proj.weight",
    ];

    // open_clip's ViT-B-16-SigLIP: timm trunk with a MAP head, a text tower under text.* with a linear projection.
    private static readonly string[] SigLip =
    [
        "logit_scale", "logit_bias",
        .. TimmTower[..5], "visual.trunk.attn_pool.latent", "visual.trunk.attn_pool.q.weight",
        "text.token_embedding.weight", "text.positional_embedding", "text.transformer.resblocks.0.attn.in_proj_weight",
        "text.ln_final.weight", "text.text_projection.weight",
    ];

    private static readonly string[] ViTWithHfText =
    [
        "logit_scale", "visual.class_embedding", "visual.positional_embedding", "visual.proj", "visual.conv1.weight",
        "visual.transformer.resblocks.0.attn.in_proj_weight",
        "text.transformer.embeddings.word_embeddings.weight", "text.transformer.encoder.layer.0.attention.self.query.weight", "text.proj.0.weight",
    ];

    private string Write(string name, IEnumerable<string> keys)
    {
        var path = Path.Combine(NewTempDir(), name);
        using var scope = torch.NewDisposeScope();
        SafeTensors.Write(path, keys.Select(k => (k, torch.zeros(2, 2))), null);
        return path;
    }

    public static TheoryData<string, string> Variants => new()
    {
        { "siglip", "this is a SigLIP model (open_clip, sigmoid loss: logit_bias, a timm image tower under visual.trunk.*, its text tower under text.*), not supported: " },
        { "timm", "this is an open_clip model with a timm image tower (visual.trunk.*), not supported: " },
        { "hf-text", "this is an open_clip model with a separate text tower (text.*, e.g. a Hugging Face text encoder), not supported: " },
    };

    private static IEnumerable<string> Keys(string variant) => variant switch
    {
        "siglip" => SigLip,
        "timm" => ["logit_scale", .. TimmTower, .. TextTransformer],
        "hf-text" => ViTWithHfText,
        _ => throw new ArgumentException(variant),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Loading_names_the_variant_and_what_is_supported(string variant, string message)
    {
        var path = Write("open_clip_model.safetensors", Keys(variant));
        var e = Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path));
        Assert.Equal($"CLIP file '{path}': {message}{UnsupportedClipVariants.Supported}", e.Message);
        Assert.Contains("supported are OpenAI CLIP (TorchScript .pt or its state dict), open_clip ViT and ModifiedResNet models", e.Message);
        Assert.DoesNotContain("text_projection' is missing", e.Message);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Inspect_recognises_the_variant_as_unsupported(string variant, string message)
    {
        var path = Write("open_clip_model.safetensors", Keys(variant));
        var (console, output) = CliTestConsole.Create(2000);
        Assert.Equal(0, InspectCommand.Run(path, json: true, console));
        var json = System.Text.Json.Nodes.JsonNode.Parse(output.ToString())!;
        var clip = json["recognized"]!.AsArray().Single()!;
        Assert.Equal("CLIP-like, not supported", clip["model"]!.GetValue<string>());
        Assert.StartsWith(message, clip["config"]!["problem"]!.GetValue<string>());
    }
}
