using VqganClip.Models.IO;

namespace VqganClip.Models.Clip;

/// <summary>
/// The MLP activation a CLIP file implies when no config says it, decided from what the file is. OpenAI's
/// own files (TorchScript archives, or state dicts still holding the archive's <c>input_resolution</c> /
/// <c>context_length</c> / <c>vocab_size</c> entries) and this toolkit's exports use QuickGELU; a Hugging Face
/// CLIPModel without config.json gets CLIPConfig's default, QuickGELU. Any other state dict with OpenAI names is
/// an open_clip file, whose default is exact GELU: only its <c>-quickgelu</c> models (and OpenAI weights it
/// re-saved) use QuickGELU, which the file alone cannot tell, so the reason says how to choose.
/// </summary>
internal static class ClipActivationDefault
{
    private static readonly string[] OpenAIArchiveScalars = ["input_resolution", "context_length", "vocab_size"];

    /// <summary>Hints holding only the activation (both towers) and its reason.</summary>
    public static ClipConfigHints For(string? format, IReadOnlyDictionary<string, string>? metadata, IEnumerable<string> rawKeys, ClipLayout layout)
    {
        if (format == CheckpointFormats.TorchScript)
            return Hints(ClipActivation.QuickGelu, "OpenAI checkpoint (TorchScript archive)");
        if (rawKeys.Select(StripWrappers).Any(k => OpenAIArchiveScalars.Contains(k)))
            return Hints(ClipActivation.QuickGelu, "OpenAI checkpoint (it holds OpenAI's input_resolution / context_length / vocab_size entries)");
        if (metadata is not null && metadata.TryGetValue("producer", out var producer) && producer.StartsWith("vqgan-clip", StringComparison.Ordinal))
            return Hints(ClipActivation.QuickGelu, $"made by this toolkit ('{producer}'), whose CLIP uses QuickGELU");
        if (layout == ClipLayout.HuggingFace)
            return Hints(ClipActivation.QuickGelu, "Hugging Face CLIPConfig default; no config.json beside the file", isDefault: true);
        return Hints(ClipActivation.Gelu,
            "open_clip default; no open_clip_config.json beside the file: a -quickgelu model, or OpenAI weights saved as a state dict, needs the activation override quick-gelu",
            isDefault: true);
    }

    private static ClipConfigHints Hints(ClipActivation activation, string reason, bool isDefault = false) => new()
    {
        VisionActivation = activation,
        TextActivation = activation,
        ActivationSource = reason,
        ActivationIsDefault = isDefault,
    };

    private static string StripWrappers(string key)
    {
        if (key.StartsWith("state_dict.", StringComparison.Ordinal)) key = key["state_dict.".Length..];
        while (key.StartsWith("module.", StringComparison.Ordinal)) key = key["module.".Length..];
        return key;
    }
}
