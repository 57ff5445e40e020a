using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// Copies checkpoint tensors into a <see cref="Gpt"/> after checking they are exactly the tensors its configuration
/// builds: a shape disagreement names the tensor and both shapes, missing and surplus GPT tensors are listed, and the
/// attention mask buffers must be the causal mask of the configured n_unmasked (upstream would silently use the
/// checkpoint's). A checkpoint without mask buffers keeps the built ones.
/// </summary>
internal static class GptWeights
{
    private const string Format = "GPT";

    public static void Copy(StateDict stateDict, string prefix, Gpt gpt, string path)
    {
        var config = gpt.Config;
        var expected = gpt.state_dict();
        var missing = new List<string>();
        var mismatches = new List<string>();
        foreach (var (name, target) in expected)
        {
            if (!stateDict.TryGetValue(prefix + name, out var source))
            {
                if (!IsMask(name)) missing.Add(prefix + name);
                continue;
            }
            if (!source.shape.SequenceEqual(target.shape))
                mismatches.Add($"tensor '{prefix + name}' has shape [{string.Join(", ", source.shape)}] in the checkpoint " +
                               $"but the configuration ({config.Source}: {Brief(config)}) expects [{string.Join(", ", target.shape)}]");
            else if (!source.is_floating_point())
                mismatches.Add($"tensor '{prefix + name}' is {source.dtype} in the checkpoint, expected floating point");
        }
        if (mismatches.Count > 0)
            throw new CheckpointFormatException(path, Format,
                mismatches[0] + (mismatches.Count > 1 ? $" (and {mismatches.Count - 1} more tensors disagree)." : "."));
        if (missing.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{missing.Count} tensors the configuration ({config.Source}: {Brief(config)}) needs are missing from the checkpoint: " +
                string.Join(", ", missing.Take(8)) + (missing.Count > 8 ? ", ..." : "") + ".");

        var unexpected = stateDict.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..])
            .Where(IsGptName)
            .Where(k => !expected.ContainsKey(k))
            .ToList();
        if (unexpected.Count > 0)
            throw new CheckpointFormatException(path, Format,
                $"{unexpected.Count} GPT tensors of the checkpoint have no place in the GPT the configuration ({config.Source}: {Brief(config)}) builds, " +
                $"first '{prefix + unexpected[0]}'. The configuration and the checkpoint describe different GPTs (n_layer?).");

        foreach (var (name, _) in expected)
        {
            if (!IsMask(name) || !stateDict.TryGetValue(prefix + name, out var mask)) continue;
            if (!IsCausalMask(mask, config.BlockSize, config.NUnmasked))
                throw new CheckpointFormatException(path, Format,
                    $"tensor '{prefix + name}' is not the causal mask with n_unmasked = {config.NUnmasked} that the configuration ({config.Source}) builds" +
                    (TryCountUnmasked(mask, out int found) ? $"; the checkpoint's mask has n_unmasked = {found}." : "; it is not a causal mask at all."));
        }

        using (no_grad())
            foreach (var (name, target) in expected)
                if (stateDict.TryGetValue(prefix + name, out var source))
                    target.copy_(source);
    }

    /// <summary>
    /// n_unmasked as the mask buffer of block 0 records it (0 when the checkpoint has no mask buffer: upstream's
    /// default). Fails when the buffer is not a causal mask of some n_unmasked.
    /// </summary>
    public static bool TryReadUnmasked(StateDict stateDict, string prefix, int blockSize, out int nUnmasked, out string? problem)
    {
        nUnmasked = 0;
        problem = null;
        var name = prefix + "blocks.0.attn.mask";
        if (!stateDict.TryGetValue(name, out var mask)) return true;
        if (!mask.shape.SequenceEqual(new long[] { 1, 1, blockSize, blockSize }))
        {
            problem = $"tensor '{name}' has shape [{string.Join(", ", mask.shape)}], expected [1, 1, {blockSize}, {blockSize}] for block_size {blockSize} (from pos_emb).";
            return false;
        }
        if (!TryCountUnmasked(mask, out nUnmasked) || !IsCausalMask(mask, blockSize, nUnmasked))
        {
            problem = $"tensor '{name}' is not a causal attention mask (lower triangle with a leading all-ones square).";
            return false;
        }
        return true;
    }

    private static bool IsMask(string name) => name.EndsWith(".attn.mask", StringComparison.Ordinal);

    private static bool IsGptName(string name) =>
        name.StartsWith("tok_emb.", StringComparison.Ordinal) || name == "pos_emb" || name.StartsWith("blocks.", StringComparison.Ordinal)
        || name.StartsWith("ln_f.", StringComparison.Ordinal) || name.StartsWith("head.", StringComparison.Ordinal);

    private static string Brief(GptConfig c) =>
        $"vocab_size {c.VocabSize}, block_size {c.BlockSize}, n_layer {c.NLayer}, n_head {c.NHead}, n_embd {c.NEmbd}";

    /// <summary>The ones in the mask's first row: n_unmasked when that is above 1 (0 and 1 give the same mask).</summary>
    private static bool TryCountUnmasked(Tensor mask, out int nUnmasked)
    {
        nUnmasked = 0;
        if (mask.dim() != 4 || mask.shape[2] == 0) return false;
        using var scope = NewDisposeScope();
        long ones = mask[0, 0, 0].ne(0).sum().item<long>();
        nUnmasked = ones > 1 ? (int)ones : 0;
        return true;
    }

    private static bool IsCausalMask(Tensor mask, int blockSize, int nUnmasked)
    {
        if (!mask.shape.SequenceEqual(new long[] { 1, 1, blockSize, blockSize })) return false;
        using var scope = NewDisposeScope();
        using var expected = CausalSelfAttention.BuildMask(blockSize, nUnmasked);
        return mask.cpu().ne(0).eq(expected.ne(0)).all().item<bool>();
    }
}
