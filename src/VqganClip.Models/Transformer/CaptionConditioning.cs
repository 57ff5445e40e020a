using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// A conditioning stage of ours, beside taming's <c>SOSProvider</c>, <c>Labelator</c> and first-stage conditioning:
/// a caption as a prefix of GPT tokens. The caption is split into CLIP BPE tokens (the toolkit's
/// <see cref="ClipTokenizer"/>, without start and end markers); each BPE id the model knows becomes one token of the
/// GPT's vocabulary, after the first stage's codes, so a caption-conditioned model is one more
/// <c>Net2NetTransformer</c> whose <c>cat(c, z)</c> is (caption tokens, image codes):
/// <code>
///   GPT id                     meaning
///   0 .. offset-1              the first stage's codebook indices (image tokens)
///   offset + k                 the k-th known BPE id (buffer bpe_ids[k])
///   offset + K                 a BPE id the model never saw (unknown)
///   offset + K + 1             padding after the caption, up to context_length
/// </code>
/// The state dict holds one buffer, <c>bpe_ids</c> [K] (int64), so a checkpoint carries its own token table;
/// the YAML names it <c>target: vqganclip.CaptionConditioning</c> with <c>params: {context_length, offset}</c>.
/// Taming's GPT attends causally; with <c>n_unmasked = context_length</c> (taming's option for prefixes) the
/// caption tokens also see each other both ways.
/// </summary>
public sealed class CaptionConditioning : nn.Module, IConditioningStage, ITextConditioning
{
    /// <summary>The token table's name in the state dict (under <c>cond_stage_model.</c>).</summary>
    public const string TableName = "bpe_ids";

    /// <summary>The YAML target naming this stage (not a Python class: taming cannot load these models).</summary>
    public const string Target = "vqganclip.CaptionConditioning";

    private readonly Tensor bpe_ids;
    private readonly Dictionary<int, int> _index;
    private readonly ClipTokenizer _tokenizer;

    /// <param name="bpeIds">The BPE ids the model knows, in GPT order (id offset + k is bpeIds[k]).</param>
    /// <param name="offset">The first caption token's GPT id: the first stage's codebook size.</param>
    /// <param name="contextLength">Tokens in the prefix (captions are padded to it).</param>
    public CaptionConditioning(IReadOnlyList<long> bpeIds, int offset, int contextLength, ClipTokenizer? tokenizer = null)
        : base(nameof(CaptionConditioning))
    {
        ArgumentNullException.ThrowIfNull(bpeIds);
        if (bpeIds.Count == 0) throw new ArgumentException("A caption conditioning stage needs at least one known BPE id.", nameof(bpeIds));
        if (offset <= 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "The caption tokens' offset (the codebook size) must be positive.");
        if (contextLength <= 0) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "The caption context length must be positive.");
        _tokenizer = tokenizer ?? ClipTokenizer.Default;
        _index = new Dictionary<int, int>(bpeIds.Count);
        for (int k = 0; k < bpeIds.Count; k++)
        {
            long id = bpeIds[k];
            if (id < 0 || id >= _tokenizer.VocabularySize)
                throw new ArgumentException($"bpe_ids[{k}] = {id} is not a CLIP BPE id (0..{_tokenizer.VocabularySize - 1}).", nameof(bpeIds));
            if (!_index.TryAdd((int)id, k))
                throw new ArgumentException($"bpe_ids[{k}] = {id} appears twice.", nameof(bpeIds));
        }
        Offset = offset;
        ContextLength = contextLength;
        bpe_ids = tensor(bpeIds.ToArray(), dtype: ScalarType.Int64);
        register_buffer("bpe_ids", bpe_ids);
    }

    /// <summary>
    /// The stage for a set of words: the BPE ids of every word (sorted), so any caption made of them maps to known tokens.
    /// </summary>
    public static CaptionConditioning FromWords(IEnumerable<string> words, int offset, int contextLength, ClipTokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(words);
        var t = tokenizer ?? ClipTokenizer.Default;
        var ids = new SortedSet<long>();
        foreach (var word in words)
            foreach (var id in t.Encode(word)) ids.Add(id);
        return new CaptionConditioning(ids.ToList(), offset, contextLength, t);
    }

    /// <summary>The stage a checkpoint holds: its token table <c>{prefix}bpe_ids</c> with the configuration's offset and length.</summary>
    public static CaptionConditioning FromStateDict(StateDict stateDict, string prefix, ConditioningConfig config)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(config);
        string name = prefix + TableName;
        if (!stateDict.TryGetValue(name, out var table))
            throw new CheckpointFormatException(stateDict.SourcePath ?? "(state dict in memory)", stateDict.Format,
                $"the configuration names a caption conditioning stage but the weights hold no '{name}' token table.");
        if (table.dim() != 1 || table.is_floating_point())
            throw new CheckpointFormatException(stateDict.SourcePath ?? "(state dict in memory)", stateDict.Format,
                $"'{name}' should be a vector of integer BPE ids, got {table.dtype} [{string.Join(", ", table.shape)}].");
        using var ids = table.to(ScalarType.Int64).cpu().contiguous();
        return new CaptionConditioning(ids.data<long>().ToArray(), config.CaptionOffset, config.CaptionContextLength);
    }

    /// <inheritdoc/>
    string IConditioningStage.Target => Target;

    /// <inheritdoc/>
    public string Description => $"caption ({ContextLength} tokens, {KnownTokens} known BPE tokens from id {Offset})";

    /// <summary>
    /// CLIP BPE ids [B, n] (int64; negative entries are padding, as are positions past n) to the GPT prefix
    /// [B, ContextLength]; BPE ids the model does not know become the unknown token.
    /// </summary>
    public Tensor Encode(Tensor conditioning)
    {
        ArgumentNullException.ThrowIfNull(conditioning);
        if (conditioning.dim() != 2 || conditioning.is_floating_point())
            throw new ArgumentException($"Caption conditioning takes BPE ids [batch, tokens] (integers), got {conditioning.dtype} [{string.Join(", ", conditioning.shape)}].", nameof(conditioning));
        if (conditioning.shape[1] > ContextLength)
            throw new ArgumentException($"The captions are {conditioning.shape[1]} tokens long; this transformer reads at most {ContextLength}.", nameof(conditioning));
        using var cpu = conditioning.to(ScalarType.Int64).cpu().contiguous();
        var bpe = cpu.data<long>().ToArray();
        long batch = conditioning.shape[0], n = conditioning.shape[1];
        var ids = new long[batch * ContextLength];
        for (long b = 0; b < batch; b++)
            for (int i = 0; i < ContextLength; i++)
            {
                long id = i < n ? bpe[b * n + i] : -1;
                ids[b * ContextLength + i] = id < 0 ? PaddingId : _index.TryGetValue((int)id, out var k) ? Offset + k : UnknownId;
            }
        return tensor(ids, dtype: ScalarType.Int64).reshape(batch, ContextLength).to(conditioning.device);
    }

    /// <summary>The first caption token's GPT id (the first stage's codebook size).</summary>
    public int Offset { get; }

    /// <summary>Tokens in the prefix.</summary>
    public int ContextLength { get; }

    /// <summary>Known BPE ids (K).</summary>
    public int KnownTokens => _index.Count;

    /// <summary>GPT id of a BPE id the model never saw.</summary>
    public long UnknownId => Offset + KnownTokens;

    /// <summary>GPT id of the padding after a caption.</summary>
    public long PaddingId => Offset + KnownTokens + 1;

    /// <summary>The GPT vocabulary this stage needs: codes, known tokens, unknown, padding.</summary>
    public int VocabularyNeeded => Offset + KnownTokens + 2;

    /// <summary>The known BPE ids, in GPT order (the buffer itself: do not modify).</summary>
    public Tensor BpeIds => bpe_ids;

    /// <summary>Words of <paramref name="caption"/> whose BPE tokens are not all known (empty when every token is).</summary>
    public IReadOnlyList<string> UnknownWords(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return caption.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Where(w => _tokenizer.Encode(w).Any(id => !_index.ContainsKey(id)))
            .ToList();
    }

    /// <summary>The prefix of one caption: [ContextLength] GPT ids, padded.</summary>
    /// <exception cref="ArgumentException">The caption has more BPE tokens than <see cref="ContextLength"/> (the message gives both).</exception>
    public long[] EncodeIds(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var bpe = _tokenizer.Encode(caption);
        if (bpe.Length > ContextLength)
            throw new ArgumentException($"The caption \"{caption}\" is {bpe.Length} tokens long; this transformer reads at most {ContextLength}.", nameof(caption));
        var ids = new long[ContextLength];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = i < bpe.Length ? (_index.TryGetValue(bpe[i], out var k) ? Offset + k : UnknownId) : PaddingId;
        return ids;
    }

    /// <summary>The prefixes of a batch of captions: [B, ContextLength] int64 GPT ids on <paramref name="device"/>.</summary>
    /// <exception cref="ArgumentException">A caption longer than <see cref="ContextLength"/> tokens (the message gives both).</exception>
    public Tensor EncodeText(IReadOnlyList<string> captions, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(captions);
        if (captions.Count == 0) throw new ArgumentException("No captions to encode.", nameof(captions));
        var flat = captions.SelectMany(EncodeIds).ToArray();
        var ids = tensor(flat, dtype: ScalarType.Int64).reshape(captions.Count, ContextLength);
        return device is null ? ids : ids.to(device);
    }

    /// <summary>The caption a prefix stands for (unknown tokens as "?"), for display.</summary>
    public string Decode(IEnumerable<long> ids)
    {
        var known = bpe_ids.data<long>().ToArray();
        var bpe = new List<int>();
        var text = new System.Text.StringBuilder();
        foreach (var id in ids)
        {
            if (id == PaddingId) break;
            if (id >= Offset && id < Offset + known.Length) bpe.Add((int)known[id - Offset]);
            else
            {
                if (bpe.Count > 0) { text.Append(_tokenizer.Decode(bpe)); bpe.Clear(); }
                text.Append(id == UnknownId ? "? " : $"<{id}> ");
            }
        }
        if (bpe.Count > 0) text.Append(_tokenizer.Decode(bpe));
        return text.ToString().Trim();
    }
}
