using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// The attention core of torch's <c>F.multi_head_attention_forward</c> after the input projections:
/// split into heads, scale the queries by 1/sqrt(head_dim), add the additive mask, softmax, weight the values,
/// merge the heads. Shared by <see cref="MultiheadAttention"/> (in_proj weights) and
/// <see cref="AttentionPool2d"/> (separate q/k/v projections). Written out rather than calling
/// scaled_dot_product_attention so the scaling and mask convention are visible and identical on every backend.
/// </summary>
internal static class Attention
{
    /// <param name="q">[N, Lq, E] projected queries.</param>
    /// <param name="k">[N, L, E] projected keys.</param>
    /// <param name="v">[N, L, E] projected values.</param>
    /// <param name="heads">Number of heads; must divide E.</param>
    /// <param name="attnMask">Optional additive mask [Lq, L] (0 = attend, -inf = blocked), as the reference passes it.</param>
    /// <returns>[N, Lq, E], before the output projection.</returns>
    public static Tensor Forward(Tensor q, Tensor k, Tensor v, int heads, Tensor? attnMask)
    {
        using var scope = torch.NewDisposeScope();
        long n = q.shape[0], lq = q.shape[1], l = k.shape[1], e = q.shape[2];
        long headDim = e / heads;

        // [N, L, E] -> [N, H, L, head_dim]
        var qh = q.view(n, lq, heads, headDim).transpose(1, 2);
        var kh = k.view(n, l, heads, headDim).transpose(1, 2);
        var vh = v.view(n, l, heads, headDim).transpose(1, 2);

        // nn.MultiheadAttention scales q (not the product) by head_dim^-0.5.
        var scores = torch.matmul(qh * (1.0 / Math.Sqrt(headDim)), kh.transpose(-2, -1));
        if (attnMask is not null)
            scores = scores + attnMask;
        var weights = torch.softmax(scores, -1);
        var output = torch.matmul(weights, vh).transpose(1, 2).reshape(n, lq, e);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>The reference's build_attention_mask: additive causal mask, -inf above the diagonal.</summary>
    public static Tensor CausalMask(long length, Device device, ScalarType dtype)
    {
        using var full = torch.full(length, length, float.NegativeInfinity, dtype: dtype, device: device);
        return full.triu(1);
    }
}
