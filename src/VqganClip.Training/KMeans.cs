using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// Lloyd's k-means on rows of a float matrix, for data-dependent codebook initialisation. Seeds are distinct
/// random rows (System.Random with the given seed, so it is reproducible); an empty cluster keeps its centre.
/// </summary>
public static class KMeans
{
    /// <returns>Centres [k, dim] (a new tensor).</returns>
    public static Tensor Fit(Tensor data, int k, int iterations, int seed)
    {
        if (data.dim() != 2) throw new ArgumentException($"k-means expects a matrix [n, dim], got [{string.Join(", ", data.shape)}].", nameof(data));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = data.detach().to(ScalarType.Float32);
        long n = x.shape[0];
        var random = new Random(seed);
        // Distinct rows when there are enough, otherwise rows drawn with replacement (jittered below).
        long[] picks = n >= k
            ? Enumerable.Range(0, (int)n).OrderBy(_ => random.Next()).Take(k).Select(i => (long)i).ToArray()
            : Enumerable.Range(0, k).Select(_ => (long)random.Next((int)n)).ToArray();
        var centers = x.index_select(0, tensor(picks));
        if (n < k)
        {
            using var g = new Generator((ulong)seed);
            centers = centers + 0.01 * x.std() * randn(centers.shape, generator: g);
        }

        for (int it = 0; it < iterations; it++)
        {
            var assign = NearestRows(x, centers);
            var sums = zeros_like(centers).index_add_(0, assign, x, 1.0);
            var counts = assign.bincount(null, minlength: k).to(ScalarType.Float32).unsqueeze(1);
            centers = where(counts > 0, sums / counts.clamp_min(1), centers);
        }
        return centers.MoveToOuterDisposeScope();
    }

    /// <summary>Index of the nearest centre for every row (squared euclidean, expanded as the VQ does).</summary>
    public static Tensor NearestRows(Tensor x, Tensor centers)
    {
        using var xx = x.pow(2).sum(1, keepdim: true);
        using var cc = centers.pow(2).sum(1);
        using var xc = matmul(x, centers.t());
        using var d = xx + cc - 2 * xc;
        return d.argmin(1);
    }
}
