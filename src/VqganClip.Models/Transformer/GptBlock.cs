using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using VqganClip.Models.Runtime;

namespace VqganClip.Models.Transformer;

/// <summary>
/// minGPT's pre-norm transformer block (taming's <c>Block</c>): <c>x + attn(ln1(x))</c>, then
/// <c>x + mlp(ln2(x))</c> with <c>mlp = Sequential(Linear(E, 4E), GELU, Linear(4E, E), Dropout)</c>, so its
/// parameters are <c>ln1</c>, <c>ln2</c>, <c>attn.*</c>, <c>mlp.0</c> and <c>mlp.2</c>. LayerNorm eps 1e-5 (torch's
/// default); GELU is the exact erf form (torch's nn.GELU()).
/// </summary>
public sealed class GptBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>torch.nn.LayerNorm's default epsilon, which upstream keeps.</summary>
    public const double LayerNormEps = 1e-5;

#pragma warning disable IDE1006 // taming's attribute names
    private readonly LayerNorm ln1;
    private readonly LayerNorm ln2;
    private readonly CausalSelfAttention attn;
    private readonly Sequential mlp;
#pragma warning restore IDE1006

    /// <summary>Builds one block for <paramref name="config"/>.</summary>
    public GptBlock(GptConfig config) : base("Block")
    {
        ArgumentNullException.ThrowIfNull(config);
        ln1 = nn.LayerNorm(config.NEmbd, LayerNormEps);
        ln2 = nn.LayerNorm(config.NEmbd, LayerNormEps);
        attn = new CausalSelfAttention(config);
        mlp = nn.Sequential(
            ("0", nn.Linear(config.NEmbd, 4L * config.NEmbd)),
            ("1", nn.GELU(GELU.Approximate.none)),   // exact erf GELU, as torch's nn.GELU()
            ("2", nn.Linear(4L * config.NEmbd, config.NEmbd)),
            ("3", nn.Dropout(config.ResidPdrop)));
        register_module("ln1", ln1);
        register_module("ln2", ln2);
        register_module("attn", attn);
        register_module("mlp", mlp);
    }

    /// <summary>The attention layer.</summary>
    public CausalSelfAttention Attention => attn;

    /// <summary>x [B, T, C] to [B, T, C], attending causally over the whole sequence.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var h = x.add(attn.forward(ln1.forward(x)), HeldScalars.One);   // a held alpha: `+` passes an implicit 1 (see HeldScalars)
        return h.add(mlp.forward(ln2.forward(h)), HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>The new positions x [B, Tn, C] attending over the cached layer <paramref name="layer"/> and themselves.</summary>
    internal Tensor ForwardCached(Tensor x, GptKvCache cache, int layer)
    {
        using var scope = torch.NewDisposeScope();
        var h = x.add(attn.ForwardCached(ln1.forward(x), cache, layer), HeldScalars.One);
        return h.add(mlp.forward(ln2.forward(h)), HeldScalars.One).MoveToOuterDisposeScope();
    }
}
