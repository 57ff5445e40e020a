using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// Copies a state dict into a pix2pix network after checking it holds exactly the tensors the configuration builds:
/// a shape disagreement names the tensor and both shapes, missing tensors are listed, tensors with no place are
/// refused. Tolerated, as upstream's loader does: no <c>num_batches_tracked</c> (PyTorch before 0.4.1 saved none; kept
/// at 0), and an instance-norm network's stale <c>running_mean</c>/<c>running_var</c> (upstream's
/// __patch_instance_norm_state_dict deletes them).
/// </summary>
internal static class Pix2PixWeights
{
    public static void Copy(Func<string, Tensor?> source, IEnumerable<string> sourceNames, nn.Module target, string path, string format, string configDescription, bool instanceNorm)
    {
        var expected = target.state_dict();
        var missing = new List<string>();
        var mismatches = new List<string>();
        foreach (var (name, tensor) in expected)
        {
            var found = source(name);
            if (found is null)
            {
                if (!name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) missing.Add(name);
                continue;
            }
            if (!found.shape.SequenceEqual(tensor.shape))
                mismatches.Add($"tensor '{name}' has shape [{string.Join(", ", found.shape)}] in the file but {configDescription} expects [{string.Join(", ", tensor.shape)}]");
            else if (found.is_floating_point() != tensor.is_floating_point())
                mismatches.Add($"tensor '{name}' is {found.dtype} in the file, expected {tensor.dtype}");
        }
        if (mismatches.Count > 0)
            throw new CheckpointFormatException(path, format, mismatches[0] + (mismatches.Count > 1 ? $" (and {mismatches.Count - 1} more tensors disagree)." : "."));
        if (missing.Count > 0)
            throw new CheckpointFormatException(path, format,
                $"{missing.Count} tensors {configDescription} needs are missing: {string.Join(", ", missing.Take(6))}{(missing.Count > 6 ? ", ..." : "")}.");
        var unexpected = sourceNames.Where(n => !expected.ContainsKey(n) && !(instanceNorm && IsStaleInstanceNormStatistic(n))).ToList();
        if (unexpected.Count > 0)
            throw new CheckpointFormatException(path, format,
                $"{unexpected.Count} tensors have no place in {configDescription}, first '{unexpected[0]}'" +
                (unexpected.Count > 1 ? $" (also {string.Join(", ", unexpected.Skip(1).Take(4))}{(unexpected.Count > 5 ? ", ..." : "")})" : "") + ".");

        using var _ = no_grad();
        foreach (var (name, tensor) in expected)
            if (source(name) is { } found) tensor.copy_(found);
    }

    private static bool IsStaleInstanceNormStatistic(string name) =>
        name.EndsWith(".running_mean", StringComparison.Ordinal) || name.EndsWith(".running_var", StringComparison.Ordinal)
        || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);
}
