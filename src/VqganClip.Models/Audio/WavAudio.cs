namespace VqganClip.Models.Audio;

/// <summary>Decoded WAV samples: <see cref="Mono"/> in [−1, 1] (channels averaged, as librosa's mono=True), at <see cref="SampleRate"/>.</summary>
public sealed record WavAudio(int SampleRate, int Channels, string Encoding, float[] Mono)
{
    public double Seconds => (double)Mono.Length / SampleRate;
}
