using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// Copies checkpoint tensors into a <see cref="VqganModel"/> after checking that they are exactly the
/// tensors its configuration builds: a shape disagreement names the first tensor (expected vs actual),
/// missing tensors are listed, and VQGAN tensors with no place in the model are refused.
/// Everything outside the VQGAN (loss.* discriminator/LPIPS, a transformer, a cond stage) is ignored.
/// </summary>
internal static class VqganWeights
{
    private const string Format = "VQGAN";

    public static void CheckKind(StateDict stateDict, string prefix, VqganConfig config, string path)
    {
        bool hasVq = stateDict.ContainsKey(prefix + "quantize.embedding.weight");
        bool hasGumbel = stateDict.ContainsKey(prefix + "quantize.embed.weight") || stateDict.ContainsKey(prefix + "quantize.proj.weight");
        if (config.Kind == VqganKind.VQModel && !hasVq && hasGumbel)
            throw new CheckpointFormatException(path, Format,
                $"the configuration ({config.Source}) describes a VQModel but the checkpoint holds a GumbelVQ quantizer ({prefix}quantize.embed.weight / quantize.proj.weight).");
        if (config.Kind == VqganKind.GumbelVQ && hasVq && !hasGumbel)
            throw new CheckpointFormatException(path, Format,
                $"the configuration ({config.Source}) describes a GumbelVQ but the checkpoint holds a VQModel codebook ({prefix}quantize.embedding.weight).");
    }

    public static void Copy(StateDict stateDict, string prefix, VqganModel model, VqganConfig config, string path)
    {
        var expected = model.state_dict();
        var missing = new List<string>();
        var mismatches = new List<string>();
        foreach (var (name, target) in expected)
        {
            if (!stateDict.TryGetValue(prefix + name, out var source)) { missing.Add(prefix + name); continue; }
            if (!source.shape.SequenceEqual(target.shape))
                mismatches.Add($"tensor '{prefix + name}' has shape [{string.Join(", ", source.shape)}] in the checkpoint " +
                               $"but the configuration ({config.Source}) expects [{string.Join(", ", target.shape)}]");
            else if (target.is_floating_point() && !source.is_floating_point())
                mismatches.Add($"tensor '{prefix + name}' is {source.dtype} in the checkpoint, expected floating point");
        }
        if (mismatches.Count > 0)
            throw new CheckpointFormatException(path, Format,
                mismatches[0] + (mismatches.Count > 1 ? $" (and {mismatches.Count - 1} more tensors disagree)." : "."));
        if (missing.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{missing.Count} tensors the configuration ({config.Source}) needs are missing from the checkpoint: " +
                string.Join(", ", missing.Take(8)) + (missing.Count > 8 ? ", ..." : "") + ".");

        var unexpected = stateDict.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..])
            .Where(k => VqganCheckpointLayout.ModuleNames.Any(m => k.StartsWith(m, StringComparison.Ordinal)))
            // taming loads with strict=False: a remap buffer the config does not ask for is ignored, as there.
            .Where(k => !expected.ContainsKey(k) && k != "quantize.used")
            .ToList();
        if (unexpected.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{unexpected.Count} VQGAN tensors of the checkpoint have no place in the model the configuration ({config.Source}) builds, " +
                $"first '{prefix + unexpected[0]}'" + (unexpected.Count > 1 ? $" (also {string.Join(", ", unexpected.Skip(1).Take(4).Select(k => prefix + k))}{(unexpected.Count > 5 ? ", ..." : "")})" : "") +
                ". The configuration and the checkpoint describe different architectures.");

        using (no_grad())
            foreach (var (name, target) in expected)
                target.copy_(stateDict[prefix + name]);
    }
}
