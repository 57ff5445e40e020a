namespace VqganClip.Models.Clip;

/// <summary>
/// Names the open_clip model families whose keys look like CLIP's (<c>visual.*</c>) but whose towers this
/// toolkit does not implement, so such a file is refused as what it is instead of "text_projection is missing":
/// SigLIP (sigmoid loss: <c>logit_bias</c>, a timm ViT with an attention-pool head under <c>visual.trunk.*</c>,
/// a text tower under <c>text.*</c>), other timm image towers (<c>visual.trunk.*</c>), and custom text towers
/// (<c>text.*</c>, e.g. a Hugging Face text encoder, with no top-level <c>text_projection</c>).
/// </summary>
public static class UnsupportedClipVariants
{
    public const string Supported =
        "supported are OpenAI CLIP (TorchScript .pt or its state dict), open_clip ViT and ModifiedResNet models with the " +
        "built-in text transformer (e.g. ViT-B-32, ViT-B-16-quickgelu, RN50) and Hugging Face CLIPModel weights";

    /// <summary>The "this is ..., not supported" sentence for cleaned key names, or null when none applies.</summary>
    public static string? Describe(IReadOnlyCollection<string> cleanNames)
    {
        bool Has(string prefix) => cleanNames.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));

        if (cleanNames.Contains("logit_bias") || Has("visual.trunk.attn_pool."))
            return "this is a SigLIP model (open_clip, sigmoid loss: logit_bias, a timm image tower under visual.trunk.*, " +
                   $"its text tower under text.*), not supported: {Supported}";
        if (Has("visual.trunk."))
            return $"this is an open_clip model with a timm image tower (visual.trunk.*), not supported: {Supported}";
        if (Has("text.") && !cleanNames.Contains("text_projection"))
            return "this is an open_clip model with a separate text tower (text.*, e.g. a Hugging Face text encoder), " +
                   $"not supported: {Supported}";
        return null;
    }
}
