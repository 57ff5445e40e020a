using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.BigGan;

/// <summary>
/// Copies a state dict into a <see cref="BigGanModel"/> after checking that it holds exactly the tensors the
/// configuration builds: a shape disagreement names the tensor and both shapes, missing tensors are listed, and
/// BigGAN tensors with no place in the model are refused (upstream loads with strict=False and would leave them
/// random or unused silently).
/// </summary>
internal static class BigGanWeights
{
    private const string Format = "BigGAN";

    public static void Copy(StateDict stateDict, BigGanModel model, string path)
    {
        var config = model.Config;
        var expected = model.state_dict();
        var missing = new List<string>();
        var mismatches = new List<string>();
        foreach (var (name, target) in expected)
        {
            if (!stateDict.TryGetValue(name, out var source)) { missing.Add(name); continue; }
            if (!source.shape.SequenceEqual(target.shape))
                mismatches.Add($"tensor '{name}' has shape [{string.Join(", ", source.shape)}] in the checkpoint " +
                               $"but the configuration ({config.Source}) expects [{string.Join(", ", target.shape)}]");
            else if (!source.is_floating_point())
                mismatches.Add($"tensor '{name}' is {source.dtype} in the checkpoint, expected floating point");
        }
        if (mismatches.Count > 0)
            throw new CheckpointFormatException(path, Format,
                mismatches[0] + (mismatches.Count > 1 ? $" (and {mismatches.Count - 1} more tensors disagree)." : "."));
        if (missing.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{missing.Count} tensors the configuration ({config.Source}) needs are missing from the checkpoint: " +
                string.Join(", ", missing.Take(8)) + (missing.Count > 8 ? ", ..." : "") +
                ". The configuration and the checkpoint describe different architectures (a different number of layers or attention position?).");

        var unexpected = stateDict.Keys
            .Where(BigGanCheckpointLayout.IsBigGanTensorName)
            .Where(k => !expected.ContainsKey(k) && !IsPreVersion1SpectralNormWeight(k, expected))
            .ToList();
        if (unexpected.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{unexpected.Count} BigGAN tensors of the checkpoint have no place in the model the configuration ({config.Source}) builds, " +
                $"first '{unexpected[0]}'" + (unexpected.Count > 1 ? $" (also {string.Join(", ", unexpected.Skip(1).Take(4))}{(unexpected.Count > 5 ? ", ..." : "")})" : "") +
                ". The configuration and the checkpoint describe different architectures.");

        using (no_grad())
            foreach (var (name, target) in expected)
                target.copy_(stateDict[name]);
    }

    /// <summary>
    /// PyTorch before 1.0 also saved a spectral-norm layer's computed <c>weight</c> beside weight_orig; the fold here
    /// uses weight_orig, weight_u and weight_v, so such an extra tensor is ignored.
    /// </summary>
    private static bool IsPreVersion1SpectralNormWeight(string key, Dictionary<string, Tensor> expected) =>
        key.EndsWith(".weight", StringComparison.Ordinal) && expected.ContainsKey(key[..^".weight".Length] + ".weight_orig");
}
