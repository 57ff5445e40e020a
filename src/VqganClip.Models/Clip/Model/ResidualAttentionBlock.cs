using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// The reference's ResidualAttentionBlock (pre-norm): <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>,
/// with <c>mlp = Sequential(c_fc: Linear(d, 4d), gelu: QuickGELU, c_proj: Linear(4d, d))</c>.
/// </summary>
public sealed class ResidualAttentionBlock : nn.Module
{
#pragma warning disable IDE1006 // reference parameter names
    public readonly MultiheadAttention attn;
    public readonly LayerNorm ln_1;
    public readonly nn.Module<Tensor, Tensor> mlp;
    public readonly LayerNorm ln_2;
#pragma warning restore IDE1006

    public ResidualAttentionBlock(int width, int heads, ClipActivation activation = ClipActivation.QuickGelu, double eps = 1e-5)
        : base(nameof(ResidualAttentionBlock))
    {
        attn = new MultiheadAttention(width, heads);
        ln_1 = new LayerNorm(width, eps);
        mlp = nn.Sequential(
            ("c_fc", nn.Linear(width, width * 4L)),
            ("gelu", QuickGelu.Create(activation)),
            ("c_proj", nn.Linear(width * 4L, width)));
        ln_2 = new LayerNorm(width, eps);
        RegisterComponents();
    }

    /// <param name="x">[N, L, width].</param>
    /// <param name="attnMask">Optional additive [L, L] mask (the text tower's causal mask).</param>
    public Tensor forward(Tensor x, Tensor? attnMask)
    {
        using var scope = torch.NewDisposeScope();
        var h = x + attn.forward(ln_1.forward(x), attnMask);
        var y = h + mlp.forward(ln_2.forward(h));
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The block's output at the first token only, [N, 1, width]: keys and values from every token, but the query,
    /// output projection and MLP for token 0 alone (no other token's output influences it). What the image tower's
    /// last block needs, since only the class token is read after it; about 1/L of that block's work.
    /// </summary>
    public Tensor ForwardFirstToken(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var normed = ln_1.forward(x);
        // contiguous copies of the one token: with the strided views, a trained model and its reloaded export gave
        // features that differed in the last bit (ClipTrainerTests' reload test); copied, they are identical
        var h = x.narrow(1, 0, 1).contiguous() + attn.forward(normed.narrow(1, 0, 1).contiguous(), normed, null);
        var y = h + mlp.forward(ln_2.forward(h));
        return y.MoveToOuterDisposeScope();
    }
}
