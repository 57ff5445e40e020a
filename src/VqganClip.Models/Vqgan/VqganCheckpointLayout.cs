using VqganClip.Models.IO;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// Where a VQGAN's tensors sit in a checkpoint: directly (VQModel/GumbelVQ: encoder.*, decoder.*,
/// quantize.*, quant_conv.*, post_quant_conv.*, next to the loss.* discriminator/LPIPS tensors that
/// are ignored) or under <c>first_stage_model.</c> (Net2NetTransformer checkpoints).
/// </summary>
public static class VqganCheckpointLayout
{
    /// <summary>The prefixes tried, in order.</summary>
    public static readonly IReadOnlyList<string> KnownPrefixes = new[] { "", "first_stage_model.", "model.", "module." };

    /// <summary>The module names of a VQGAN (taming's VQModel attributes that hold weights).</summary>
    public static readonly IReadOnlyList<string> ModuleNames = new[] { "encoder.", "decoder.", "quantize.", "quant_conv.", "post_quant_conv." };

    /// <summary>The prefix under which <c>encoder.conv_in.weight</c> and <c>decoder.conv_in.weight</c> sit, or null.</summary>
    public static string? FindPrefix(StateDict stateDict)
    {
        foreach (var prefix in KnownPrefixes)
            if (stateDict.ContainsKey(prefix + "encoder.conv_in.weight") && stateDict.ContainsKey(prefix + "decoder.conv_in.weight"))
                return prefix;
        return null;
    }

    /// <summary>True when the state dict holds a taming VQGAN (possibly inside a Net2NetTransformer).</summary>
    public static bool IsVqgan(StateDict stateDict) => FindPrefix(stateDict) is not null;

    /// <summary>
    /// Explains why a state dict is not a VQGAN: names what it looks like instead (a CLIP model, a
    /// transformer without first stage, ...) and which tensor was looked for.
    /// </summary>
    public static string DescribeNotVqgan(StateDict stateDict)
    {
        var keys = stateDict.Keys;
        string looksLike = "";
        if (keys.Any(k => k.StartsWith("visual.", StringComparison.Ordinal) || k == "logit_scale" || k == "token_embedding.weight"
                          || k.StartsWith("text_model.", StringComparison.Ordinal) || k.StartsWith("vision_model.", StringComparison.Ordinal)))
            looksLike = " It looks like a CLIP model (visual.* / text_model.* / logit_scale tensors), not a VQGAN.";
        else if (keys.Any(k => k.StartsWith("transformer.", StringComparison.Ordinal)))
            looksLike = " It holds transformer.* tensors but no first_stage_model.* VQGAN.";
        else if (keys.Count == 0)
            looksLike = " It holds no tensors.";
        var sample = string.Join(", ", keys.Take(5));
        return $"no VQGAN tensors found (looked for encoder.conv_in.weight and decoder.conv_in.weight, also under first_stage_model.).{looksLike}" +
               (keys.Count > 0 ? $" First tensors: {sample}{(keys.Count > 5 ? ", ..." : "")}." : "");
    }
}
