using TorchSharp;
using static TorchSharp.torch;
using VqganClip.Models.Runtime;

namespace VqganClip.Models.Transformer;

/// <summary>One sampling step on logits [B, V]: temperature, filters, softmax, then multinomial or argmax.</summary>
public static class TokenChooser
{
    /// <summary>
    /// softmax(filter(logits / temperature)) over the last axis: the distribution a step draws from (what the
    /// fixture's per-step probabilities record, and what a notebook may plot).
    /// </summary>
    public static Tensor Probabilities(Tensor logits, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var scope = torch.NewDisposeScope();
        // upstream divides (logits / temperature), it does not multiply by the inverse
        using var temperature = options.Temperature.ToScalar();   // disposed at the end, so alive through the call (see HeldScalars)
        var scaled = logits.div(temperature);
        if (options.TokenLimit is { } limit && limit < logits.shape[^1])
            scaled = scaled.index_fill(-1, torch.arange(limit, logits.shape[^1], dtype: ScalarType.Int64, device: logits.device), HeldScalars.NegativeInfinity);
        var filtered = LogitFilters.TopKTopP(scaled, options.TopK, options.TopP);
        return torch.nn.functional.softmax(filtered, -1).MoveToOuterDisposeScope();
    }

    /// <summary>The next token [B, 1] (int64) for the last logits [B, V].</summary>
    public static Tensor Next(Tensor logits, SamplingOptions options)
    {
        using var scope = torch.NewDisposeScope();
        var probs = Probabilities(logits, options);
        var next = options.Sample
            ? torch.multinomial(probs, 1, replacement: false, generator: options.Generator)
            : probs.topk(1, dim: -1).indexes; // upstream's greedy branch: _, ix = torch.topk(probs, k=1, dim=-1)
        return next.MoveToOuterDisposeScope();
    }
}
