using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.BigSleep;

/// <summary>
/// The exponential moving average of one parameter tensor, bias-corrected, as <c>big_sleep/ema.py</c> (crowsonkb's EMA)
/// keeps it: a float32 accumulator <c>accum</c> starts at 1; every update does <c>accum ·= decay</c>,
/// <c>biased = decay·biased + (1 − decay)·param</c> (biased starts at 0) and <c>average = biased / (1 − accum)</c>.
/// Upstream's constructor already calls update once, with the starting values, so right after construction
/// <see cref="Value"/> equals them; the constructor here does the same. Big Sleep updates after every optimizer step
/// and uses the average only for the pictures it saves (the optimizer keeps working on the live parameters).
/// Upstream copies buffers (thresh_lat) instead of averaging them: nothing to do here.
/// </summary>
public sealed class LatentEma : IDisposable
{
    private Tensor _biased;
    private Tensor _average;

    /// <param name="initial">The parameter's starting values (copied; not kept).</param>
    /// <param name="decay">In [0, 1); Big Sleep: <see cref="BigSleepDefaults.EmaDecay"/> (class) or <see cref="BigSleepDefaults.CliEmaDecay"/> (command line).</param>
    public LatentEma(Tensor initial, double decay)
    {
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), $"EMA decay must be in [0, 1); got {decay}.");
        Decay = decay;
        using (no_grad())
        {
            _biased = zeros_like(initial).detach();
            _average = zeros_like(initial).detach();
        }
        Accumulator = 1f;
        Update(initial);
    }

    private LatentEma(Tensor biased, float accumulator, double decay, int updates)
    {
        Decay = decay;
        using (no_grad())
        {
            _biased = biased.detach().clone();
            _average = _biased / (1f - accumulator);
        }
        Accumulator = accumulator;
        Updates = updates;
    }

    /// <summary>Restores an average saved as (<see cref="Biased"/>, <see cref="Accumulator"/>, <see cref="Updates"/>); copies <paramref name="biased"/>.</summary>
    public static LatentEma FromState(Tensor biased, float accumulator, double decay, int updates)
    {
        if (!(accumulator > 0 && accumulator < 1)) throw new ArgumentOutOfRangeException(nameof(accumulator), "A saved EMA has had at least one update: 0 < accum < 1.");
        return new LatentEma(biased, accumulator, decay, updates);
    }

    public double Decay { get; }

    /// <summary>decay^updates, kept in float32 like upstream's buffer.</summary>
    public float Accumulator { get; private set; }

    /// <summary>Updates done, counting the constructor's.</summary>
    public int Updates { get; private set; }

    /// <summary>The un-corrected running sum (decay-weighted, starting from 0). Owned here: do not dispose.</summary>
    public Tensor Biased => _biased;

    /// <summary>The bias-corrected average <c>biased / (1 − accum)</c> (no gradient). Owned here: do not dispose or modify.</summary>
    public Tensor Value => _average;

    /// <summary>One EMA step with the parameter's current values (upstream <c>EMA.update</c>, done after each optimizer step).</summary>
    public void Update(Tensor current)
    {
        if (!current.shape.SequenceEqual(_biased.shape))
            throw new ArgumentException($"EMA of shape [{string.Join(", ", _biased.shape)}] updated with [{string.Join(", ", current.shape)}].", nameof(current));
        using var _ = no_grad();
        Accumulator *= (float)Decay;                          // float32 buffer times the decay, as torch does
        using (var detached = current.detach())
        using (var step = detached * (1 - Decay))   // upstream: biased.mul_(decay).add_((1 - decay) * param)
        {
            _biased.mul_(Decay);
            _biased.add_(step);
        }
        _average.copy_(_biased);
        _average.div_(1f - Accumulator);
        Updates++;
    }

    public void Dispose()
    {
        _biased.Dispose();
        _average.Dispose();
    }
}
