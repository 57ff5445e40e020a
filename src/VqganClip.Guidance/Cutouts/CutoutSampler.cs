using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Cutouts;

/// <summary>
/// Resamples a whole batch of cutouts with one <c>grid_sample</c> (per pre-filter level), instead of the original's
/// crop + Lanczos resample per cutout. Each cutout is a 3×3 matrix from its normalised output coordinates to the
/// picture's continuous pixel coordinates (affine for crops, projective with perspective augmentation).
/// Anti-aliasing: a cutout that shrinks its region by more than 2× samples from a copy of the picture average-pooled
/// by k = ⌊ratio⌋ (one pooled copy per distinct k), so bilinear/bicubic taps never skip pixels. All cutouts are laid
/// side by side as one tall grid over the single picture, so the backward pass accumulates into one [1,3,H,W] gradient.
/// Bilinear only: TorchSharp 0.107's grid_sample exposes no bicubic mode (its native shim maps only nearest/bilinear).
/// </summary>
public static class CutoutSampler
{
    /// <summary>Pre-filter factor for a cutout that shrinks its source region by <paramref name="ratio"/> (region side / cut side).</summary>
    public static int PoolFactor(double ratio) => ratio > 2 ? (int)Math.Floor(ratio) : 1;

    /// <param name="image">Picture [1,3,H,W].</param>
    /// <param name="matrices">Per cutout, output-normalised → picture-pixel 3×3 matrix.</param>
    /// <param name="ratios">Per cutout, how many picture pixels one output pixel spans (for the anti-alias pre-filter).</param>
    /// <param name="size">Output side S.</param>
    /// <returns>[n,3,S,S].</returns>
    public static Tensor Sample(Tensor image, IReadOnlyList<double[,]> matrices, IReadOnlyList<double> ratios, int size) =>
        Sample(image, matrices, ratios, size, skipDivideForAffine: true);

    /// <param name="skipDivideForAffine">
    /// When every matrix is affine (last row 0, 0, 1, as for plain crops) the projective divide is by exactly 1 and
    /// changes no bit, so it is left out (two operations fewer per pool level); false always divides (tests compare both).
    /// </param>
    internal static Tensor Sample(Tensor image, IReadOnlyList<double[,]> matrices, IReadOnlyList<double> ratios, int size,
        bool skipDivideForAffine)
    {
        if (image.dim() != 4 || image.shape[0] != 1)
            throw new ArgumentException($"Cutouts are cut from one picture [1,C,H,W]; got [{string.Join(", ", image.shape)}].", nameof(image));
        int n = matrices.Count;
        if (ratios.Count != n) throw new ArgumentException("One ratio per matrix.", nameof(ratios));
        long h = image.shape[2], w = image.shape[3], c = image.shape[1];

        using var scope = NewDisposeScope();
        var baseGrid = BaseGrid(size, image.device);                    // [S*S,3] (u, v, 1); cached, not ours to dispose
        var groups = Enumerable.Range(0, n).GroupBy(i => PoolFactor(ratios[i])).OrderBy(g => g.Key).ToList();
        var outputs = new List<Tensor>();
        var order = new List<long>();
        foreach (var group in groups)
        {
            int k = group.Key;
            var idx = group.ToArray();
            var source = k == 1 ? image : nn.functional.avg_pool2d(image, k, stride: k);
            long hk = source.shape[2] * k, wk = source.shape[3] * k;     // picture pixels the pooled copy covers
            var m = MatrixTensor(idx.Select(i => matrices[i]).ToList(), image.device);   // [g,3,3]
            var pts = baseGrid.unsqueeze(0).matmul(m.transpose(1, 2));  // [g,S*S,3]
            // projective divide; the third coordinate of an affine matrix is 0·u + 0·v + 1·1, exactly 1
            bool affine = skipDivideForAffine && idx.All(i => IsAffine(matrices[i]));
            var xy = affine ? pts[.., .., ..2] : pts[.., .., ..2] / pts[.., .., 2..];
            // continuous pixel coords -> grid_sample's normalised coords (align_corners=false) of the (pooled) source
            var scale = tensor(new float[] { 2f / wk, 2f / hk }, device: image.device);
            var grid = (xy * scale - 1).reshape(1, idx.Length * size, size, 2);
            var sampled = nn.functional.grid_sample(source, grid, GridSampleMode.Bilinear,
                GridSamplePaddingMode.Border, align_corners: false);     // [1,C,g*S,S]
            outputs.Add(sampled.view(c, idx.Length, size, size).transpose(0, 1));
            order.AddRange(idx.Select(i => (long)i));
        }
        var all = outputs.Count == 1 ? outputs[0] : cat(outputs, 0);
        if (outputs.Count > 1)
        {
            // put cutouts back in draw order
            var inverse = new long[n];
            for (int pos = 0; pos < n; pos++) inverse[order[pos]] = pos;
            all = all.index_select(0, tensor(inverse, device: image.device));
        }
        return all.contiguous().MoveToOuterDisposeScope();
    }

    private static bool IsAffine(double[,] m) => m[2, 0] == 0 && m[2, 1] == 0 && m[2, 2] == 1;

    // The base grids of the sizes in use, built once per process (the same values every step: rebuilding one took
    // a dozen tensor operations a step). Never disposed; a few sizes at most (CLIP input sizes), 12·S² bytes each.
    private static readonly Dictionary<(int Size, DeviceType Type, int Index), Tensor> BaseGrids = new();

    /// <summary>[S*S, 3] rows (u, v, 1) at the output pixel centres, shared: callers must not dispose or modify it.</summary>
    internal static Tensor BaseGrid(int size, Device device)
    {
        var key = (size, device.type, device.index);
        lock (BaseGrids)
        {
            if (BaseGrids.TryGetValue(key, out var cached)) return cached;
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var coords = (arange(size, dtype: ScalarType.Float32) * 2 + 1) / size - 1;   // pixel centres in [-1,1]
            var g = meshgrid(new[] { coords, coords }, indexing: "ij");                    // g[0]=v (rows), g[1]=u (cols)
            var grid = stack(new[] { g[1].reshape(-1), g[0].reshape(-1), ones(size * size) }, 1).to(device).DetachFromDisposeScope();
            BaseGrids[key] = grid;
            return grid;
        }
    }

    private static Tensor MatrixTensor(IReadOnlyList<double[,]> matrices, Device device)
    {
        var data = new float[matrices.Count * 9];
        for (int i = 0; i < matrices.Count; i++)
            for (int r = 0; r < 3; r++)
                for (int col = 0; col < 3; col++)
                    data[i * 9 + r * 3 + col] = (float)matrices[i][r, col];
        return tensor(data, new long[] { matrices.Count, 3, 3 }, device: device);
    }
}
