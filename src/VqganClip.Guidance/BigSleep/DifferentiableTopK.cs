using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.BigSleep;

/// <summary>
/// lucidrains' <c>differentiable_topk(x, k, temperature)</c> (big_sleep.py, used for the class vectors when
/// <c>max_classes</c> is set). For each row, k rounds: take <c>softmax(x / temperature)</c> over the entries still in play,
/// keep its largest probability at its place, then set that entry to −inf so the next round's softmax is over the rest.
/// The result is the sum of the k one-entry vectors: k non-zero entries per row (the k largest of x), each the softmax
/// probability it had in the round it was picked. Gradients flow through the kept probabilities (the picks themselves
/// are not differentiable, as upstream).
/// </summary>
public static class DifferentiableTopK
{
    /// <param name="x">[n, dim].</param>
    /// <param name="k">Entries to keep per row, 1..dim.</param>
    /// <param name="temperature">Softmax temperature (upstream default 1; Big Sleep passes <c>class_temperature</c> = 2).</param>
    /// <returns>[n, dim].</returns>
    public static Tensor Apply(Tensor x, int k, double temperature = 1.0)
    {
        if (x.dim() != 2) throw new ArgumentException($"x must be [n, dim]; got [{string.Join(", ", x.shape)}].", nameof(x));
        if (k < 1 || k > x.shape[1]) throw new ArgumentOutOfRangeException(nameof(k), $"k must be between 1 and {x.shape[1]}; got {k}.");
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (int i = 0; i < k; i++)
        {
            bool isLast = i == k - 1;
            var (values, indices) = (x / temperature).softmax(-1).topk(1, dim: -1);
            var picked = zeros_like(x).scatter(-1, indices, values);
            // upstream concatenates the k vectors and sums them; each entry is non-zero in at most one, so the sum is exact either way
            total = total is null ? picked : total + picked;
            if (!isLast) x = x.scatter(-1, indices, full_like(values, double.NegativeInfinity));
        }
        return total!.MoveToOuterDisposeScope();
    }
}
