using TorchSharp;
using VqganClip.Models.IO;

namespace VqganClip.Models.Clip;

/// <summary>Which naming convention a CLIP state dict uses.</summary>
public enum ClipLayout
{
    /// <summary>Not a CLIP state dict.</summary>
    NotClip,
    /// <summary>openai/CLIP and open_clip names (<c>visual.*</c>, <c>transformer.resblocks.*</c>, <c>token_embedding</c>...).</summary>
    OpenAI,
    /// <summary>Hugging Face transformers' CLIPModel names (<c>vision_model.*</c>, <c>text_model.*</c>, q/k/v split).</summary>
    HuggingFace,
}

/// <summary>
/// Key-level handling of CLIP state dicts before they meet the model: strips wrapper prefixes
/// (<c>module.</c> from DataParallel, a nested <c>state_dict.</c> of training checkpoints), drops entries that
/// are not weights (the OpenAI JIT archive's <c>input_resolution</c>/<c>context_length</c>/<c>vocab_size</c>
/// scalars, Hugging Face's <c>position_ids</c> buffers), detects the layout, and names what a non-CLIP file is.
/// </summary>
public static class ClipStateDict
{
    /// <summary>Top-level entries that are not weights: the scalars of OpenAI's JIT archives (build_model deletes
    /// them too) and a text causal mask some open_clip versions saved (derived from the context length).</summary>
    public static readonly IReadOnlySet<string> IgnoredKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "input_resolution", "context_length", "vocab_size", "attn_mask",
    };

    /// <summary>Clean name -> original name for every entry that is a weight.</summary>
    public static Dictionary<string, string> CleanNames(IEnumerable<string> keys)
    {
        var all = keys.ToList();
        // A training checkpoint flattened by the reader: keep its state_dict only (optimizer etc. are not weights).
        bool nested = all.Any(k => k.StartsWith("state_dict.", StringComparison.Ordinal));
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in all)
        {
            var name = key;
            if (nested)
            {
                if (!name.StartsWith("state_dict.", StringComparison.Ordinal)) continue;
                name = name["state_dict.".Length..];
            }
            while (name.StartsWith("module.", StringComparison.Ordinal))
                name = name["module.".Length..];
            if (IgnoredKeys.Contains(name) || name.EndsWith("position_ids", StringComparison.Ordinal))
                continue;
            if (!result.TryAdd(name, key))
                throw new InvalidDataException($"Tensors '{result[name]}' and '{key}' both map to '{name}'.");
        }
        return result;
    }

    /// <summary>The layout of already cleaned names.</summary>
    public static ClipLayout DetectLayout(IEnumerable<string> cleanNames)
    {
        bool openai = false, hf = false;
        foreach (var k in cleanNames)
        {
            if (k.StartsWith("visual.", StringComparison.Ordinal) || k.StartsWith("transformer.resblocks.", StringComparison.Ordinal)
                || k is "token_embedding.weight" or "text_projection" or "ln_final.weight")
                openai = true;
            else if (k.StartsWith("vision_model.", StringComparison.Ordinal) || k.StartsWith("text_model.", StringComparison.Ordinal))
                hf = true;
        }
        return openai ? ClipLayout.OpenAI : hf ? ClipLayout.HuggingFace : ClipLayout.NotClip;
    }

    /// <summary>"no visual.* / text keys found; this looks like ..." for a file that is not CLIP.</summary>
    public static string NotClipMessage(IReadOnlyCollection<string> keys)
    {
        if (keys.Count == 0) return "not a CLIP checkpoint: the file holds no tensors";
        static bool Any(IEnumerable<string> ks, params string[] prefixes) =>
            ks.Any(k => prefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal) || k.Contains("." + p, StringComparison.Ordinal)));

        string guess =
            Any(keys, "quantize.embedding", "encoder.conv_in", "decoder.conv_out", "post_quant_conv") ? "a VQGAN / taming-transformers autoencoder (encoder.*, decoder.*, quantize.*)"
            : Any(keys, "first_stage_model.", "model.diffusion_model.") ? "a latent diffusion / Stable Diffusion checkpoint"
            : Any(keys, "embeddings.word_embeddings") ? "a BERT-style text model"
            : Any(keys, "fc.weight", "layer1.0.conv1.weight") ? "an image classifier (torchvision-style ResNet)"
            : "an unknown model";
        var first = string.Join(", ", keys.Take(5));
        return $"not a CLIP checkpoint: no visual.* / text keys found (neither OpenAI nor Hugging Face names); this looks like {guess}. First keys: {first}{(keys.Count > 5 ? ", ..." : "")}";
    }

    /// <summary>
    /// A state dict with OpenAI names: cleaned, and converted from Hugging Face names when needed. Takes the
    /// tensors out of <paramref name="source"/> (which is left empty); the caller owns the result.
    /// </summary>
    public static StateDict ToOpenAILayout(StateDict source, out ClipLayout layout)
    {
        var path = source.SourcePath ?? "(in memory)";
        Dictionary<string, string> names;
        try
        {
            names = CleanNames(source.Keys);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(path, "CLIP", e.Message);
        }
        if (UnsupportedClipVariants.Describe(names.Keys) is { } unsupported)
            throw new CheckpointFormatException(path, "CLIP", unsupported);
        layout = DetectLayout(names.Keys);
        if (layout == ClipLayout.NotClip)
            throw new CheckpointFormatException(path, "CLIP", NotClipMessage(source.Keys));

        var cleaned = new StateDict(source.Format, source.SourcePath);
        foreach (var (k, v) in source.Metadata) cleaned.Metadata[k] = v;
        foreach (var (clean, original) in names)
            cleaned.Add(clean, source.Detach(original));
        if (layout == ClipLayout.OpenAI)
            return cleaned;

        using (cleaned)
        {
            try
            {
                return HuggingFaceClipKeys.ToOpenAI(cleaned);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(path, "CLIP (Hugging Face)", e.Message);
            }
        }
    }

    /// <summary>Name -> shape of every tensor.</summary>
    public static Dictionary<string, long[]> Shapes(StateDict stateDict) =>
        stateDict.Entries.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
}
