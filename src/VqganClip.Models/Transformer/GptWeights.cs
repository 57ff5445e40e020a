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
        StrictStateDictCopy.Copy(stateDict, prefix, gpt.state_dict(), new StrictCopyRules(path, Format, $"{config.Source}: {Brief(config)}", IsGptName)
        {
            MayBeAbsent = IsMask,
            UnexpectedHint = "The configuration and the checkpoint describe different GPTs (n_layer?).",
            CheckBeforeCopy = file => CheckMasks(file, prefix, gpt, path),
        });
    }

    private static void CheckMasks(StateDict stateDict, string prefix, Gpt gpt, string path)
    {
        var config = gpt.Config;
        foreach (var (name, _) in gpt.state_dict())
        {
            if (!IsMask(name) || !stateDict.TryGetValue(prefix + name, out var mask)) continue;
            if (!IsCausalMask(mask, config.BlockSize, config.NUnmasked))
                throw new CheckpointFormatException(path, Format,
                    $"tensor '{prefix + name}' is not the causal mask with n_unmasked = {config.NUnmasked} that the configuration ({config.Source}) builds" +
                    (TryCountUnmasked(mask, out int found) ? $"; the checkpoint's mask has n_unmasked = {found}." : "; it is not a causal mask at all."));
        }
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
