using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Clip;

/// <summary>
/// Self-attention with torch's nn.MultiheadAttention parameter layout, so OpenAI state dicts map 1:1:
/// <c>in_proj_weight</c> [3E, E] and <c>in_proj_bias</c> [3E] hold q, k, v stacked in that order;
/// <c>out_proj</c> is a Linear(E, E). Inputs are batch-first [N, L, E]; the reference permutes to [L, N, E]
/// before its transformer and back after, which changes nothing numerically.
/// </summary>
public sealed class MultiheadAttention : nn.Module
{
    private readonly int _heads;

#pragma warning disable IDE1006 // reference parameter names
    public readonly Parameter in_proj_weight;
    public readonly Parameter in_proj_bias;
    public readonly Linear out_proj;
#pragma warning restore IDE1006

    public MultiheadAttention(int embedDim, int heads) : base(nameof(MultiheadAttention))
    {
        if (heads <= 0 || embedDim % heads != 0)
            throw new ArgumentException($"Attention heads ({heads}) must be positive and divide the width ({embedDim}).", nameof(heads));
        _heads = heads;
        // torch's _reset_parameters: xavier_uniform_ in_proj_weight, zero biases (CLIP re-initializes the weights).
        in_proj_weight = new Parameter(torch.empty(3L * embedDim, embedDim));
        in_proj_bias = new Parameter(torch.zeros(3L * embedDim));
        out_proj = nn.Linear(embedDim, embedDim);
        using (torch.no_grad())
        {
            nn.init.xavier_uniform_(in_proj_weight);
            out_proj.bias!.zero_();
        }
        RegisterComponents();
    }

    public int Heads => _heads;

    /// <param name="x">[N, L, E].</param>
    /// <param name="attnMask">Optional additive [L, L] mask.</param>
    public Tensor forward(Tensor x, Tensor? attnMask)
    {
        using var scope = torch.NewDisposeScope();
        var qkv = F.linear(x, in_proj_weight, in_proj_bias).chunk(3, -1);
        var attended = Attention.Forward(qkv[0], qkv[1], qkv[2], _heads, attnMask);
        return out_proj.forward(attended).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention of the queries <paramref name="query"/> [N, Lq, E] over <paramref name="keyValue"/> [N, L, E]: the same
    /// projections as <see cref="forward(Tensor, Tensor?)"/> (q from the first E rows of in_proj, k and v from the rest),
    /// but only Lq queries are projected, attended and output-projected. With Lq = 1 this is the image tower's last
    /// block, where only the class token is read afterwards.
    /// </summary>
    public Tensor forward(Tensor query, Tensor keyValue, Tensor? attnMask)
    {
        using var scope = torch.NewDisposeScope();
        int e = (int)query.shape[2];
        var q = F.linear(query, in_proj_weight[..e], in_proj_bias[..e]);
        var kv = F.linear(keyValue, in_proj_weight[e..], in_proj_bias[e..]).chunk(2, -1);
        var attended = Attention.Forward(q, kv[0], kv[1], _heads, attnMask);
        return out_proj.forward(attended).MoveToOuterDisposeScope();
    }
}
