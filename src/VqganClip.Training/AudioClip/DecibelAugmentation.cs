using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Training.AudioClip;

/// <summary>
/// Per-step augmentation of a cached decibel input [bands, F, T] (the frozen Fourier basis's output), so the cache
/// stays valid: every draw comes from a <see cref="Random"/> seeded from (seed, step), so a resumed run augments
/// exactly as an uninterrupted one.
/// <list type="bullet">
/// <item><b>Gain</b>: a uniform shift in ±<see cref="AudioClipTrainingOptions.AugGainDb"/> added to every value above
/// the silence floor: exact for a gain on the waveform (power × 10^(g/10)), except for digital zero, which stays at
/// its floor as it would.</item>
/// <item><b>Frequency warp</b>: the bins, the bands laid end to end, resampled at f / α (α uniform in 1 ± 
/// <see cref="AudioClipTrainingOptions.AugFreqWarp"/>, linear interpolation, the edge bins repeated): a stretch of
/// the spectrum as another speaker's pitch and formants would give (vocal-tract-length perturbation).</item>
/// <item><b>Masks</b> (SpecAugment): up to <see cref="AudioClipTrainingOptions.AugTimeMasks"/> runs of at most
/// <see cref="AudioClipTrainingOptions.AugTimeMaskFrames"/> frames and up to <see cref="AudioClipTrainingOptions.AugFreqMasks"/>
/// runs of at most <see cref="AudioClipTrainingOptions.AugFreqMaskBins"/> bins (of the whole spectrum) are set to the
/// clip's mean decibel over its non-silent values (not to silence, whose −180 dB would be far outside speech's range).</item>
/// </list>
/// </summary>
public static class DecibelAugmentation
{
    /// <summary>Values at or below this are silence (10·log10(1e−18) = −180 dB) and keep their value under a gain.</summary>
    public const double SilenceDb = -179.9;

    public static bool Enabled(AudioClipTrainingOptions o) => o.AugGainDb > 0 || o.AugFreqWarp > 0 || MasksEnabled(o);

    /// <summary>Whether any time or frequency mask can have a width above 0.</summary>
    private static bool MasksEnabled(AudioClipTrainingOptions o) =>
        (o.AugTimeMasks > 0 && o.AugTimeMaskFrames > 0) || (o.AugFreqMasks > 0 && o.AugFreqMaskBins > 0);

    /// <summary>The augmentation of one clip [bands, F, T] with draws from <paramref name="random"/> (a new tensor).</summary>
    public static Tensor Apply(Tensor decibels, AudioClipTrainingOptions o, Random random)
    {
        using var scope = NewDisposeScope();
        var x = decibels;
        if (o.AugGainDb > 0)
            x = Gain(x, (random.NextDouble() * 2 - 1) * o.AugGainDb);
        if (o.AugFreqWarp > 0)
            x = WarpFrequency(x, 1 + (random.NextDouble() * 2 - 1) * o.AugFreqWarp);
        if (MasksEnabled(o))
        {
            long bins = x.shape[0] * x.shape[1], frames = x.shape[2];
            var freq = new List<(long, long)>();
            var time = new List<(long, long)>();
            for (int k = 0; k < o.AugFreqMasks; k++)
            {
                long width = random.Next(0, o.AugFreqMaskBins + 1);
                long start = random.NextInt64(0, Math.Max(1, bins - width + 1));
                freq.Add((start, Math.Min(width, bins - start)));
            }
            for (int k = 0; k < o.AugTimeMasks; k++)
            {
                long width = random.Next(0, o.AugTimeMaskFrames + 1);
                long start = random.NextInt64(0, Math.Max(1, frames - width + 1));
                time.Add((start, Math.Min(width, frames - start)));
            }
            x = Mask(x, freq, time);
        }
        return (ReferenceEquals(x, decibels) ? x.clone() : x).MoveToOuterDisposeScope();
    }

    /// <summary>A gain of <paramref name="db"/> decibels: added to every value above <see cref="SilenceDb"/>.</summary>
    public static Tensor Gain(Tensor decibels, double db)
    {
        using var scope = NewDisposeScope();
        return where(decibels > SilenceDb, decibels + db, decibels).MoveToOuterDisposeScope();
    }

    /// <summary>The spectrum (bands end to end) resampled at bin f / <paramref name="alpha"/>: α &gt; 1 moves energy up.</summary>
    public static Tensor WarpFrequency(Tensor decibels, double alpha)
    {
        using var scope = NewDisposeScope();
        long bands = decibels.shape[0], perBand = decibels.shape[1], frames = decibels.shape[2], bins = bands * perBand;
        var flat = decibels.reshape(bins, frames);
        var lo = new long[bins];
        var hi = new long[bins];
        var w = new float[bins];
        for (long f = 0; f < bins; f++)
        {
            double src = Math.Clamp(f / alpha, 0, bins - 1);
            long l = (long)Math.Floor(src);
            lo[f] = l;
            hi[f] = Math.Min(bins - 1, l + 1);
            w[f] = (float)(src - l);
        }
        var weight = tensor(w).unsqueeze(1);
        var warped = flat.index_select(0, tensor(lo)) * (1 - weight) + flat.index_select(0, tensor(hi)) * weight;
        return warped.reshape(bands, perBand, frames).MoveToOuterDisposeScope();
    }

    /// <summary>Bin runs (start, width) over the whole spectrum and frame runs set to the clip's mean decibel.</summary>
    public static Tensor Mask(Tensor decibels, IEnumerable<(long Start, long Width)> binRuns, IEnumerable<(long Start, long Width)> frameRuns)
    {
        using var scope = NewDisposeScope();
        long bands = decibels.shape[0], perBand = decibels.shape[1], frames = decibels.shape[2];
        var flat = decibels.reshape(bands * perBand, frames).clone();
        var sound = decibels.masked_select(decibels > SilenceDb);
        var fill = sound.numel() > 0 ? sound.mean().item<float>() : decibels.mean().item<float>();
        foreach (var (start, width) in binRuns)
            if (width > 0) flat[TensorIndex.Slice(start, start + width)].fill_(fill);
        foreach (var (start, width) in frameRuns)
            if (width > 0) flat[TensorIndex.Colon, TensorIndex.Slice(start, start + width)].fill_(fill);
        return flat.reshape(bands, perBand, frames).MoveToOuterDisposeScope();
    }
}
