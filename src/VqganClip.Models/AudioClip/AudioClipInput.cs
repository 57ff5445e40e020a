using VqganClip.Models.Audio;
using static TorchSharp.torch;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// A sound as AudioCLIP's training pipeline feeds it (utils/datasets/esc50.py): mono, 44.1 kHz, samples multiplied
/// by 32768 (the int16 range; the model's own <c>scale</c> maps it back to [−1, 1]). Copies of the upstream demo that
/// pass [−1, 1] samples feed the network a constant −90 dB offset; this follows the training pipeline.
/// </summary>
public static class AudioClipInput
{
    /// <summary>esc50.py: <c>wav.T * 32768.0</c>.</summary>
    public const float Int16Scale = 32768f;

    /// <summary>A WAV file → [1, samples] at 44.1 kHz in the int16 range; at least one frame of <paramref name="config"/>'s window.</summary>
    public static Tensor Load(string path, AudioHeadConfig config)
    {
        var wav = WavReader.Read(path);
        var samples = AudioResampler.Resample(wav.Mono, wav.SampleRate, AudioHeadConfig.SampleRate);
        if (samples.Length < config.WinLength)
            throw new AudioFormatException(path,
                $"too short: {wav.Mono.Length} samples ({wav.Seconds * 1000:F1} ms at {wav.SampleRate} Hz); AudioCLIP needs at least one frame, " +
                $"{config.WinLength} samples at {AudioHeadConfig.SampleRate} Hz ({1000.0 * config.WinLength / AudioHeadConfig.SampleRate:F1} ms)");
        return FromSamples(samples);
    }

    /// <summary>Samples in [−1, 1] at 44.1 kHz → [1, samples] in the int16 range.</summary>
    public static Tensor FromSamples(float[] samples) => tensor(samples.Select(s => s * Int16Scale).ToArray()).unsqueeze(0);
}
