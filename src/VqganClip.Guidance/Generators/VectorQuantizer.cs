using TorchSharp;
using VqganClip.Guidance.Autograd;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>
/// Snaps latent vectors to their nearest codebook entry with a straight-through gradient (the original's
/// <c>vector_quantize</c>): the forward value is exactly the codebook entry, the gradient goes to the unsnapped latent.
/// </summary>
public static class VectorQuantizer
{
    /// <summary>
    /// For x [..., d] and a codebook [n, d]: the nearest entries (squared distance <c>|x|² + |c|² − 2x·c</c>, as the
    /// original) as a one-hot product, so the result is exactly the codebook rows; gradient straight through to x.
    /// </summary>
    public static Tensor Quantize(Tensor x, Tensor codebook)
    {
        using var scope = NewDisposeScope();
        var indices = NearestIndices(x, codebook);
        var xq = nn.functional.one_hot(indices, codebook.shape[0]).to_type(x.dtype).matmul(codebook);
        return GradientTricks.ReplaceGrad(xq, x).MoveToOuterDisposeScope();
    }

    /// <summary>Index of the nearest codebook row for every vector of x [..., d] (no gradient).</summary>
    public static Tensor NearestIndices(Tensor x, Tensor codebook)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var d = x.pow(2).sum(-1, keepdim: true) + codebook.pow(2).sum(1) - 2 * x.matmul(codebook.t());
        return d.argmin(-1).MoveToOuterDisposeScope();
    }
}
