using NWaves.Operations;
using NWaves.Signals;

namespace VqganClip.Models.Audio;

/// <summary>
/// Sample-rate conversion with NWaves' band-limited resampler (windowed-sinc interpolation, order 15, with a
/// 101-tap low-pass first when going down). AudioCLIP's training data (ESC-50, AudioSet clips) were loaded by librosa
/// at 44.1 kHz, mostly without resampling; where a file is not at 44.1 kHz, librosa would have used its own filter
/// (kaiser_best / soxr), so resampled prompts differ slightly from what the reference pipeline would give.
/// </summary>
public static class AudioResampler
{
    /// <summary>The order of NWaves' interpolation low-pass (Resampler.MinResamplingFilterOrder): its delay is half of it.</summary>
    private const int InterpolationFilterOrder = 101;

    public static float[] Resample(float[] samples, int fromRate, int toRate)
    {
        if (fromRate == toRate) return samples;
        if (toRate > fromRate && toRate % fromRate == 0 && samples.Length > 0)
        {
            int factor = toRate / fromRate;
            var up = new Resampler().Interpolate(new DiscreteSignal(fromRate, samples), factor).Samples;
            int delay = InterpolationFilterOrder / 2;
            int length = samples.Length * factor;
            var aligned = new float[length];
            Array.Copy(up, Math.Min(delay, up.Length), aligned, 0, Math.Max(0, Math.Min(length, up.Length - delay)));
            return aligned;
        }
        var resampled = new Resampler().Resample(new DiscreteSignal(fromRate, samples), toRate);
        return resampled.Samples;
    }
}
