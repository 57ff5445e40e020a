using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// Copies a generator state dict (names under a prefix) into a <see cref="StyleGan2Model"/> after checking that it
/// holds exactly the tensors the configuration builds: a shape disagreement names the tensor and both shapes,
/// missing tensors are listed, generator tensors with no place are refused (upstream loads with strict=False and
/// would silently leave them random or unused).
/// </summary>
internal static class StyleGan2Weights
{
    private const string Format = "StyleGAN2";

    public static void Copy(StateDict stateDict, string prefix, StyleGan2Model model, string path)
    {
        var expected = model.state_dict();
        var missing = new List<string>();
        foreach (var (name, target) in expected)
        {
            if (!stateDict.TryGetValue(prefix + name, out var source)) { missing.Add(prefix + name); continue; }
            if (!source.shape.SequenceEqual(target.shape))
                throw new CheckpointFormatException(path, Format,
                    $"tensor '{prefix + name}' has shape [{string.Join(", ", source.shape)}] in the checkpoint but the configuration ({model.Config}) expects [{string.Join(", ", target.shape)}].");
            if (!source.is_floating_point())
                throw new CheckpointFormatException(path, Format, $"tensor '{prefix + name}' is {source.dtype} in the checkpoint, expected floating point.");
        }
        if (missing.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{missing.Count} tensors the configuration ({model.Config}) needs are missing from the checkpoint: {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}.");
        var unexpected = stateDict.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k != StyleGan2CheckpointLayout.LatentAvgName && !expected.ContainsKey(k[prefix.Length..]))
            .ToList();
        if (unexpected.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{unexpected.Count} generator tensors of the checkpoint have no place in the model the configuration ({model.Config}) builds, first '{unexpected[0]}'" +
                (unexpected.Count > 1 ? $" (also {string.Join(", ", unexpected.Skip(1).Take(4))}{(unexpected.Count > 5 ? ", ..." : "")})" : "") + ".");

        using (no_grad())
            foreach (var (name, target) in expected)
                target.copy_(stateDict[prefix + name]);
    }
}
