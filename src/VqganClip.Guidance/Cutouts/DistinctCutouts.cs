using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Cutouts;

/// <summary>
/// Lets CLIP encode each distinct cutout once. Cutouts that are exactly equal give exactly equal embeddings, so
/// encoding one and repeating its embedding (index_select, whose backward sums the repeats' gradients) gives the same
/// loss and gradient as encoding every copy. It matters when the picture is no larger than CLIP's input: the original
/// cutouts are then all the whole picture (their size is drawn between min(side, cut size) and side), e.g. a 128x128
/// picture with ViT-B/32's 224 input gives cutn identical cutouts.
/// Finding equal ones costs a row reduction (a second one only when two sums match) plus an exact comparison of
/// candidates with equal signatures.
/// </summary>
public static class DistinctCutouts
{
    /// <summary>
    /// For cutouts [n, ...]: per cutout, the index of the first cutout exactly equal to it (itself when it is the
    /// first of its kind); null when all are distinct.
    /// </summary>
    public static long[]? FirstEqual(Tensor cuts)
    {
        long n = cuts.shape[0];
        if (n < 2) return null;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var flat = cuts.detach().reshape(n, -1);
        // signatures: equal rows have (nearly: reductions may split rows differently) equal sums and norms; the norms
        // are only computed when two sums match (random cutouts of a larger picture never do: one reduction a step)
        var sums = flat.sum(1, type: ScalarType.Float64).data<double>().ToArray();
        double[]? norms = null;
        var first = new long[n];
        bool any = false;
        for (int i = 0; i < n; i++)
        {
            first[i] = i;
            for (int j = 0; j < i; j++)
            {
                if (first[j] != j || !Close(sums[i], sums[j])) continue;
                norms ??= flat.norm(1).to_type(ScalarType.Float64).data<double>().ToArray();
                if (!Close(norms[i], norms[j])) continue;
                if (!flat[i].eq(flat[j]).all().item<bool>()) continue;
                first[i] = j;
                any = true;
                break;
            }
        }
        return any ? first : null;
    }

    /// <summary>
    /// <paramref name="encode"/>(cuts) [n, d], computed on the distinct cutouts only and repeated to n rows in order;
    /// just <paramref name="encode"/>(cuts) when all are distinct.
    /// </summary>
    public static Tensor Encode(Tensor cuts, Func<Tensor, Tensor> encode)
    {
        var first = FirstEqual(cuts);
        if (first is null) return encode(cuts);
        using var scope = NewDisposeScope();
        var distinct = new List<long>();
        var position = new long[first.Length];
        for (int i = 0; i < first.Length; i++)
        {
            if (first[i] == i) { position[i] = distinct.Count; distinct.Add(i); }
            else position[i] = position[first[i]];
        }
        var embeds = encode(cuts.index_select(0, tensor(distinct.ToArray(), device: cuts.device)));
        return embeds.index_select(0, tensor(position, device: cuts.device)).MoveToOuterDisposeScope();
    }

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-9 * (Math.Abs(a) + Math.Abs(b)) + 1e-12;
}
