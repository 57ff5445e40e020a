using System.Globalization;

namespace VqganClip.Models.Transformer;

/// <summary>
/// The arguments of taming-transformers' minGPT (<c>taming.modules.transformer.mingpt.GPT</c>): vocabulary size,
/// context length (<c>block_size</c>), depth, heads, width, the size of the leading square that attends both ways
/// (<c>n_unmasked</c>) and the three dropout probabilities. Defaults are upstream's keyword defaults
/// (n_layer 12, n_head 8, n_embd 256, n_unmasked 0, dropouts 0).
/// </summary>
public sealed partial record GptConfig
{
    /// <summary>Upstream's <c>target</c> for the GPT in a Net2NetTransformer's <c>transformer_config</c>.</summary>
    public const string GptTarget = "taming.modules.transformer.mingpt.GPT";

    /// <summary><c>vocab_size</c>: rows of <c>tok_emb</c> and of <c>head</c>; image codes and conditioning tokens share it.</summary>
    public required int VocabSize { get; init; }

    /// <summary><c>block_size</c>: the longest sequence the GPT reads (rows of <c>pos_emb</c>).</summary>
    public required int BlockSize { get; init; }

    /// <summary><c>n_layer</c>: number of transformer blocks.</summary>
    public int NLayer { get; init; } = 12;

    /// <summary><c>n_head</c>: attention heads; must divide <see cref="NEmbd"/>.</summary>
    public int NHead { get; init; } = 8;

    /// <summary><c>n_embd</c>: the residual width.</summary>
    public int NEmbd { get; init; } = 256;

    /// <summary><c>n_unmasked</c>: positions [0, n_unmasked) attend to each other in both directions (0 or 1: plain causal mask).</summary>
    public int NUnmasked { get; init; }

    /// <summary><c>embd_pdrop</c>: dropout after token + position embeddings (training only).</summary>
    public double EmbdPdrop { get; init; }

    /// <summary><c>resid_pdrop</c>: dropout on the attention projection and the MLP output (training only).</summary>
    public double ResidPdrop { get; init; }

    /// <summary><c>attn_pdrop</c>: dropout on the attention weights (training only).</summary>
    public double AttnPdrop { get; init; }

    /// <summary>Where the configuration came from: a YAML path, "inferred from ...", or "constructed".</summary>
    public string Source { get; init; } = "constructed";

    /// <summary>Width of one attention head, n_embd / n_head.</summary>
    public int HeadDim => NEmbd / NHead;

    /// <summary>Number of parameters (tok_emb, pos_emb, blocks, ln_f, head; not the mask buffers).</summary>
    public long ParameterCount
    {
        get
        {
            long e = NEmbd, v = VocabSize;
            long block = 4 * (e * e + e)        // key, query, value, proj
                         + 2 * 2 * e            // ln1, ln2
                         + (e * 4 * e + 4 * e)  // mlp.0
                         + (4 * e * e + e);     // mlp.2
            return v * e + (long)BlockSize * e + NLayer * block + 2 * e + v * e;
        }
    }

    /// <summary>
    /// Checks that the numbers build a GPT. Throws <see cref="ArgumentException"/> naming the field and its value.
    /// </summary>
    public void Validate()
    {
        if (VocabSize <= 0) throw Bad($"vocab_size must be positive (got {VocabSize}).");
        if (BlockSize <= 0) throw Bad($"block_size must be positive (got {BlockSize}).");
        if (NLayer <= 0) throw Bad($"n_layer must be positive (got {NLayer}).");
        if (NHead <= 0) throw Bad($"n_head must be positive (got {NHead}).");
        if (NEmbd <= 0) throw Bad($"n_embd must be positive (got {NEmbd}).");
        if (NEmbd % NHead != 0)
            throw Bad($"n_embd ({NEmbd}) must be divisible by n_head ({NHead}): each head gets n_embd / n_head channels.");
        if (NUnmasked < 0 || NUnmasked > BlockSize)
            throw Bad($"n_unmasked must be in [0, block_size = {BlockSize}] (got {NUnmasked}).");
        CheckProbability("embd_pdrop", EmbdPdrop);
        CheckProbability("resid_pdrop", ResidPdrop);
        CheckProbability("attn_pdrop", AttnPdrop);
    }

    private ArgumentException Bad(string problem) => new($"GPT config ({Source}): {problem}");

    private void CheckProbability(string name, double p)
    {
        if (double.IsNaN(p) || p < 0 || p >= 1) throw Bad($"{name} must be in [0, 1) (got {p.ToString(CultureInfo.InvariantCulture)}).");
    }

    /// <summary>A one-line summary.</summary>
    public string Describe() =>
        $"GPT vocab_size {VocabSize}, block_size {BlockSize}, n_layer {NLayer}, n_head {NHead}, n_embd {NEmbd}" +
        (NUnmasked > 0 ? $", n_unmasked {NUnmasked}" : "") +
        (EmbdPdrop > 0 || ResidPdrop > 0 || AttnPdrop > 0
            ? string.Create(CultureInfo.InvariantCulture, $", dropout embd {EmbdPdrop} resid {ResidPdrop} attn {AttnPdrop}")
            : "") +
        $" ({ParameterCount:N0} parameters; {Source})";
}
