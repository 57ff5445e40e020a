namespace VqganClip.Models.Transformer;

/// <summary>Reading a GPT's configuration from its tensors' names and shapes.</summary>
public sealed partial record GptConfig
{
    /// <summary>
    /// Reads what the weights tell: vocab_size and n_embd from <c>tok_emb.weight</c> [V, E], block_size from
    /// <c>pos_emb</c> [1, block, E], n_layer by counting <c>blocks.N.ln1.weight</c>. n_head changes no tensor shape,
    /// so it cannot be read and must be given as <paramref name="nHead"/>; without it this fails and says so.
    /// n_unmasked comes from the mask buffer (see <see cref="Gpt.FromStateDict"/>), dropouts are 0.
    /// </summary>
    /// <param name="shapes">Tensor names and shapes (a state dict's or <c>Checkpoint.Inspect</c>'s).</param>
    /// <param name="prefix">What precedes taming's names: "transformer." in a Net2NetTransformer checkpoint.</param>
    /// <param name="nHead">The number of attention heads, when known.</param>
    /// <param name="source">Names the file in messages.</param>
    public static bool TryInferFromShapes(IReadOnlyDictionary<string, long[]> shapes, string prefix, int? nHead, string source,
        out GptConfig? config, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        config = null;
        problem = null;
        if (!shapes.TryGetValue(prefix + "tok_emb.weight", out var tokEmb) || tokEmb.Length != 2)
        {
            problem = $"no GPT found: '{prefix}tok_emb.weight' [vocab_size, n_embd] is missing.";
            return false;
        }
        if (!shapes.TryGetValue(prefix + "pos_emb", out var posEmb) || posEmb.Length != 3 || posEmb[0] != 1)
        {
            problem = $"'{prefix}pos_emb' [1, block_size, n_embd] is missing or not 3-dimensional.";
            return false;
        }
        if (posEmb[2] != tokEmb[1])
        {
            problem = $"'{prefix}pos_emb' is [{string.Join(", ", posEmb)}] but '{prefix}tok_emb.weight' is [{string.Join(", ", tokEmb)}]: their widths (n_embd) differ.";
            return false;
        }
        int layers = 0;
        while (shapes.ContainsKey($"{prefix}blocks.{layers}.ln1.weight")) layers++;
        if (layers == 0)
        {
            problem = $"'{prefix}blocks.0.ln1.weight' is missing: the GPT has no transformer blocks.";
            return false;
        }
        int embd = (int)tokEmb[1];
        if (nHead is null)
        {
            problem = $"n_head cannot be read from the weights (it changes no tensor shape; n_embd = {embd}, n_layer = {layers}): " +
                      "give it (n_head) or pass the model's *-project.yaml.";
            return false;
        }
        var candidate = new GptConfig
        {
            VocabSize = (int)tokEmb[0],
            BlockSize = (int)posEmb[1],
            NLayer = layers,
            NHead = nHead.Value,
            NEmbd = embd,
            Source = $"inferred from {source}",
        };
        try
        {
            candidate.Validate();
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
            return false;
        }
        config = candidate;
        return true;
    }
}
