using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using VqganClip.Models.Runtime;

namespace VqganClip.Models.Transformer;

/// <summary>
/// minGPT's masked multi-head self-attention with taming's names: <c>key</c>, <c>query</c>, <c>value</c>,
/// <c>proj</c> (Linear n_embd -> n_embd with bias), dropouts on the attention weights and on the output, and the
/// buffer <c>mask</c> [1, 1, block_size, block_size]: the lower triangle, with the leading
/// n_unmasked x n_unmasked square set to 1 (those positions see each other both ways).
/// </summary>
public sealed class CausalSelfAttention : nn.Module
{
#pragma warning disable IDE1006 // taming's attribute names, so state dicts map 1:1
    private readonly Linear key;
    private readonly Linear query;
    private readonly Linear value;
    private readonly Dropout attn_drop;
    private readonly Dropout resid_drop;
    private readonly Linear proj;
    private readonly Tensor mask;
#pragma warning restore IDE1006
    private readonly int _heads;
    private readonly Scalar _scale;   // held by the layer, alive through every product (see HeldScalars)

    /// <summary>Builds the layer for <paramref name="config"/> (weights as TorchSharp initialises them; <see cref="Gpt"/> re-initialises).</summary>
    public CausalSelfAttention(GptConfig config) : base(nameof(CausalSelfAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _heads = config.NHead;
        // upstream: (q @ k^T) * (1.0 / math.sqrt(k.size(-1))), the head width.
        _scale = (1.0 / Math.Sqrt(config.HeadDim)).ToScalar();
        key = nn.Linear(config.NEmbd, config.NEmbd);
        query = nn.Linear(config.NEmbd, config.NEmbd);
        value = nn.Linear(config.NEmbd, config.NEmbd);
        attn_drop = nn.Dropout(config.AttnPdrop);
        resid_drop = nn.Dropout(config.ResidPdrop);
        proj = nn.Linear(config.NEmbd, config.NEmbd);
        mask = BuildMask(config.BlockSize, config.NUnmasked);

        // upstream's attribute order
        register_module("key", key);
        register_module("query", query);
        register_module("value", value);
        register_module("attn_drop", attn_drop);
        register_module("resid_drop", resid_drop);
        register_module("proj", proj);
        register_buffer("mask", mask);
    }

    /// <summary>
    /// The mask buffer upstream registers: tril(ones(block, block)) with mask[:n_unmasked, :n_unmasked] = 1, viewed
    /// [1, 1, block, block], float32 (1 = may attend).
    /// </summary>
    public static Tensor BuildMask(int blockSize, int nUnmasked)
    {
        using var scope = torch.NewDisposeScope();
        var m = torch.ones(blockSize, blockSize).tril();
        if (nUnmasked > 0)
            m.narrow(0, 0, nUnmasked).narrow(1, 0, nUnmasked).fill_(1.0f);
        // the buffer outlives this scope (and any scope of the caller): the module owns it
        return m.view(1, 1, blockSize, blockSize).DetachFromDisposeScope();
    }

    /// <summary>The <c>mask</c> buffer (do not dispose or modify).</summary>
    public Tensor Mask => mask;

    /// <summary>Attention over the whole sequence x [B, T, C], masked causally: upstream's <c>forward(x)</c>.</summary>
    public Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var (k, q, v) = Project(x);
        long t = x.shape[1];
        var allowed = mask.narrow(2, 0, t).narrow(3, 0, t);
        return Attend(q, k, v, allowed, x.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention of the new positions x [B, Tn, C] over the cached ones and themselves; their keys and values are
    /// written into <paramref name="cache"/> at [cache.Length, cache.Length + Tn) (the caller advances the cache
    /// after every layer). Upstream applies no mask once a past exists because it only ever feeds one token, whose
    /// mask row is all ones; the row slice mask[past : past + Tn, : past + Tn] used here is the same for one token
    /// and keeps several new tokens causal.
    /// </summary>
    internal Tensor ForwardCached(Tensor x, GptKvCache cache, int layer)
    {
        using var scope = torch.NewDisposeScope();
        var (k, q, v) = Project(x);
        long past = cache.Length, t = x.shape[1];
        cache.Write(layer, k, v);
        var (keys, values) = cache.Read(layer, past + t);
        var allowed = mask.narrow(2, past, t).narrow(3, 0, past + t);
        return Attend(q, keys, values, allowed, x.shape).MoveToOuterDisposeScope();
    }

    /// <summary>key, query and value of x [B, T, C], each [B, n_head, T, head_dim] (heads moved next to the batch).</summary>
    private (Tensor K, Tensor Q, Tensor V) Project(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2];
        Tensor Heads(Linear layer) => layer.forward(x).view(b, t, _heads, c / _heads).transpose(1, 2);
        return (Heads(key), Heads(query), Heads(value));
    }

    private Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor allowed, long[] inputShape)
    {
        // (B, nh, Tq, hs) x (B, nh, hs, Tk) -> (B, nh, Tq, Tk), scaled as upstream does (multiply after the product).
        var att = q.matmul(k.transpose(-2, -1)).mul(_scale);
        att = att.masked_fill(allowed.eq(0), HeldScalars.NegativeInfinity);   // a held -inf: see HeldScalars
        att = torch.nn.functional.softmax(att, -1);
        att = attn_drop.forward(att);
        var y = att.matmul(v);                                                           // (B, nh, Tq, hs)
        y = y.transpose(1, 2).contiguous().view(inputShape[0], inputShape[1], inputShape[2]); // heads side by side
        return resid_drop.forward(proj.forward(y));
    }
}
