using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using VqganClip.Models.Runtime;

namespace VqganClip.Models.Transformer;

/// <summary>
/// The logit filters of taming's samplers, on the last axis of logits [..., V]; removed entries become -inf.
/// <list type="bullet">
/// <item><see cref="TopKLogits"/>: upstream's <c>top_k_logits</c> (mingpt.py and Net2NetTransformer): values below
///   the k-th largest are removed (ties with it stay).</item>
/// <item><see cref="TopKTopP"/>: Hugging Face's <c>top_k_top_p_filtering</c>, which <c>sample_with_past</c> calls:
///   top-k first, then nucleus: sort descending, cumulative softmax, remove what lies above top_p, shifted one
///   place right so the first token that crosses top_p stays, and always keep at least one token.</item>
/// </list>
/// Hugging Face reads top_k = 0 and top_p = 1.0 as "off"; here "off" is null, and top_k &lt;= 0 or top_p outside
/// (0, 1] is an error that names the value. A top_k above the vocabulary is clamped to it, as Hugging Face does.
/// </summary>
public static class LogitFilters
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the value when top-k or top-p is unusable.</summary>
    public static void Validate(int? topK, double? topP)
    {
        if (topK is { } k && k <= 0)
            throw new ArgumentOutOfRangeException(nameof(topK), k,
                $"top_k must be a positive number of tokens (got {k}); leave it unset to keep every token.");
        if (topP is { } p && (double.IsNaN(p) || p <= 0 || p > 1))
            throw new ArgumentOutOfRangeException(nameof(topP), p,
                $"top_p must lie in (0, 1] (got {p.ToString(CultureInfo.InvariantCulture)}); 1 keeps every token.");
    }

    /// <summary>
    /// upstream's <c>top_k_logits(logits, k)</c>: a copy of <paramref name="logits"/> with every value below the k-th
    /// largest of its row set to -inf.
    /// </summary>
    public static Tensor TopKLogits(Tensor logits, int k)
    {
        ArgumentNullException.ThrowIfNull(logits);
        Validate(k, null);
        using var scope = torch.NewDisposeScope();
        long kept = Math.Min(k, logits.shape[^1]);
        var kth = logits.topk((int)kept, dim: -1).values.narrow(-1, kept - 1, 1);
        return logits.masked_fill(logits.lt(kth), HeldScalars.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Hugging Face's <c>top_k_top_p_filtering(logits, top_k, top_p, min_tokens_to_keep)</c>: a filtered copy of
    /// <paramref name="logits"/>. Null <paramref name="topK"/> / <paramref name="topP"/> skip that filter.
    /// </summary>
    public static Tensor TopKTopP(Tensor logits, int? topK, double? topP, int minTokensToKeep = 1)
    {
        ArgumentNullException.ThrowIfNull(logits);
        Validate(topK, topP);
        if (minTokensToKeep < 1)
            throw new ArgumentOutOfRangeException(nameof(minTokensToKeep), minTokensToKeep, $"min_tokens_to_keep must be at least 1 (got {minTokensToKeep}).");
        using var scope = torch.NewDisposeScope();
        var filtered = logits.alias();
        if (topK is { } k)
            // Hugging Face: top_k = min(max(top_k, min_tokens_to_keep), vocab)
            filtered = TopKLogits(filtered, Math.Max(k, minTokensToKeep));
        if (topP is { } p && p < 1.0)
        {
            long v = filtered.shape[^1];
            var (sortedLogits, sortedIndices) = filtered.sort(-1, descending: true);
            var cumulative = torch.nn.functional.softmax(sortedLogits, -1).cumsum(-1);
            var above = cumulative.gt(p);
            // Shift right by one: the token whose probability carries the sum over top_p is kept too.
            var remove = torch.cat(new[] { torch.zeros_like(above.narrow(-1, 0, 1)), above.narrow(-1, 0, v - 1) }, -1);
            long keep = Math.Min(minTokensToKeep, v);
            if (keep > 1) remove.narrow(-1, 0, keep).fill_(false);
            var removeByToken = remove.scatter(-1, sortedIndices, remove);
            filtered = filtered.masked_fill(removeByToken, HeldScalars.NegativeInfinity);
        }
        return filtered.MoveToOuterDisposeScope();
    }
}
