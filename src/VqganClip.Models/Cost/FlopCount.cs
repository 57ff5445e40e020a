namespace VqganClip.Models.Cost;

/// <summary>
/// Floating-point operations of one pass through part of a network, counted from layer shapes (not measured).
/// <para>Convention (the usual one for GEMM-bound networks): a multiply-add is 2 FLOP; convolutions count
/// <c>2·Cin·Cout·k·k·Hout·Wout</c>, linears and matrix products <c>2·m·n·k</c>, attention its two products
/// (scores and weighted values). Element-wise work (norms, activations, softmax, resampling, optimizer) is not counted:
/// it is memory-bound and small next to the products.</para>
/// <para>Backward: with frozen weights only the gradient with respect to the layer's input is computed, which costs
/// one more product of the same size: backward ≈ 1× forward for convolutions and linears. A product of two
/// activations (attention) needs the gradient of both operands: backward = 2× forward. Training the weights too would
/// add another 1× for every weighted layer (the usual "backward ≈ 2× forward").</para>
/// </summary>
/// <param name="Forward">FLOP of the forward pass.</param>
/// <param name="Backward">FLOP of the backward pass to the input (weights frozen).</param>
public readonly record struct FlopCount(double Forward, double Backward)
{
    public static readonly FlopCount Zero = new(0, 0);

    /// <summary>Forward plus backward.</summary>
    public double Total => Forward + Backward;

    /// <summary>A convolution (no groups) with frozen weights: <c>2·Cin·Cout·kh·kw·Hout·Wout</c> per image, backward the same.</summary>
    public static FlopCount Conv2d(long batch, long inChannels, long outChannels, long kernel, long outHeight, long outWidth)
    {
        double f = 2.0 * batch * inChannels * outChannels * kernel * kernel * outHeight * outWidth;
        return new FlopCount(f, f);
    }

    /// <summary>A linear layer with frozen weights applied to <paramref name="rows"/> vectors: <c>2·rows·in·out</c>, backward the same.</summary>
    public static FlopCount Linear(long rows, long inFeatures, long outFeatures)
    {
        double f = 2.0 * rows * inFeatures * outFeatures;
        return new FlopCount(f, f);
    }

    /// <summary>
    /// A product of two activations [batch, m, k]·[batch, k, n] (attention scores, attention-weighted values):
    /// <c>2·batch·m·n·k</c>; backward 2× (both operands need their gradient).
    /// </summary>
    public static FlopCount ActivationProduct(long batch, long m, long n, long k)
    {
        double f = 2.0 * batch * m * n * k;
        return new FlopCount(f, 2 * f);
    }

    /// <summary>Forward-only work (nothing flows back through it), e.g. a nearest-neighbour search.</summary>
    public static FlopCount ForwardOnly(double flop) => new(flop, 0);

    public static FlopCount operator +(FlopCount a, FlopCount b) => new(a.Forward + b.Forward, a.Backward + b.Backward);

    public static FlopCount operator *(double k, FlopCount a) => new(k * a.Forward, k * a.Backward);

    public override string ToString() =>
        FormattableString.Invariant($"{Forward / 1e9:F2} GFLOP forward + {Backward / 1e9:F2} GFLOP backward");
}

/// <summary>Named parts of a <see cref="FlopCount"/>, in the order they were added (for a breakdown table).</summary>
public sealed class FlopTally
{
    private readonly List<(string Part, FlopCount Flops)> _parts = new();

    public IReadOnlyList<(string Part, FlopCount Flops)> Parts => _parts;

    public FlopCount Total => _parts.Aggregate(FlopCount.Zero, (sum, p) => sum + p.Flops);

    /// <summary>Adds to the part named <paramref name="part"/> (created at the end when new).</summary>
    public FlopTally Add(string part, FlopCount flops)
    {
        int i = _parts.FindIndex(p => p.Part == part);
        if (i < 0) _parts.Add((part, flops));
        else _parts[i] = (part, _parts[i].Flops + flops);
        return this;
    }

    public FlopTally Add(FlopTally other)
    {
        foreach (var (part, flops) in other.Parts) Add(part, flops);
        return this;
    }
}
