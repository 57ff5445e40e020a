using static TorchSharp.torch;

namespace VqganClip.Models.BigGan;

/// <summary>
/// Picks a batch norm's standing statistics for a truncation, as upstream's <c>BigGANBatchNorm.forward</c> does.
/// The [n_stats, C] tables hold statistics for truncations 0, 1/(n_stats-1), ..., 1.
/// </summary>
public static class TruncationStats
{
    /// <summary>
    /// upstream: <c>coef, start_idx = math.modf(truncation / step_size)</c> with step_size = 1.0/(n_stats-1), both in
    /// double (0.4/0.02 is exactly 20.0 there, 0.345/0.02 gives 17 and 0.25; dividing by the step, not multiplying by
    /// n_stats-1, keeps the same rounding).
    /// </summary>
    public static (double Coef, int Index) Modf(double truncation, int nStats)
    {
        double stepSize = 1.0 / (nStats - 1);
        double q = truncation / stepSize;
        double index = Math.Truncate(q);
        return (q - index, (int)index);
    }

    /// <summary>
    /// The statistics row for <paramref name="truncation"/> from <paramref name="table"/> [n_stats, C].
    /// When coef ≠ 0 the result is <c>table[i]·coef + table[i+1]·(1−coef)</c>: upstream's weighting, which is swapped
    /// relative to linear interpolation (truncation 0.999 takes mostly row 49, not row 50). It is kept on purpose, for
    /// fidelity to the published model's behaviour. When coef = 0, row i itself.
    /// </summary>
    public static Tensor Select(Tensor table, double truncation)
    {
        int nStats = (int)table.shape[0];
        var (coef, index) = Modf(truncation, nStats);
        if (index < 0 || index >= nStats || (coef != 0.0 && index + 1 >= nStats))
            throw new ArgumentOutOfRangeException(nameof(truncation), $"Truncation {truncation} is outside the {nStats} standing statistics (0 < truncation <= 1).");
        if (coef == 0.0) return table[index];
        using var scope = NewDisposeScope();
        // Swapped weights, as upstream (see the summary).
        return (table[index] * coef + table[index + 1] * (1 - coef)).MoveToOuterDisposeScope();
    }
}
