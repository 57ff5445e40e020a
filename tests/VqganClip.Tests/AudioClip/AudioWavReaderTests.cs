using System.Buffers.Binary;
using VqganClip.Models.Audio;
using VqganClip.Models.AudioClip;
using VqganClip.Tests.Transformer;

namespace VqganClip.Tests.AudioClip;

/// <summary>WavReader's encodings, the mono mixdown, resampling to 44.1 kHz, the int16-range input, and the errors for bad audio.</summary>
public sealed class AudioWavReaderTests
{
    static AudioWavReaderTests() => TransformerTestSupport.EnsureTorch();

    [Fact]
    public void Audio_pcm16_samples_come_back_as_the_int16_values_the_training_pipeline_feeds()
    {
        short[] values = [0, 1, -1, 32767, -32768, 1234];
        var wav = WavReader.Read(TestWav.Build(1, 1, 44100, 16, TestWav.Pcm16(values)), "x.wav");
        Assert.Equal((44100, 1, "PCM 16-bit"), (wav.SampleRate, wav.Channels, wav.Encoding));
        using var input = AudioClipInput.FromSamples(wav.Mono);
        Assert.Equal(new long[] { 1, values.Length }, input.shape);
        Assert.Equal(values.Select(v => (float)v), input[0].data<float>().ToArray());
    }

    [Fact]
    public void Audio_pcm24_pcm32_and_float32_decode_to_the_same_values()
    {
        double[] expected = [0.5, -0.25, 0.0, -1.0];
        var pcm24 = new byte[expected.Length * 3];
        var pcm32 = new byte[expected.Length * 4];
        var f32 = new byte[expected.Length * 4];
        for (int i = 0; i < expected.Length; i++)
        {
            int v24 = (int)(expected[i] * 8388608);
            pcm24[i * 3] = (byte)v24; pcm24[i * 3 + 1] = (byte)(v24 >> 8); pcm24[i * 3 + 2] = (byte)(v24 >> 16);
            BinaryPrimitives.WriteInt32LittleEndian(pcm32.AsSpan(i * 4), (int)Math.Max(int.MinValue, expected[i] * 2147483648.0));
            BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(i * 4), (float)expected[i]);
        }
        foreach (var (bytes, what) in new[]
                 {
                     (TestWav.Build(1, 1, 16000, 24, pcm24), "PCM 24-bit"),
                     (TestWav.Build(1, 1, 16000, 32, pcm32), "PCM 32-bit"),
                     (TestWav.Build(3, 1, 16000, 32, f32), "float 32-bit"),
                     (TestWav.Build(3, 1, 16000, 32, f32, extensible: true), "float 32-bit"),
                 })
        {
            var wav = WavReader.Read(bytes, "x.wav");
            Assert.Equal(what, wav.Encoding);
            Assert.Equal(expected.Select(e => (float)e), wav.Mono);
        }
    }

    [Fact]
    public void Audio_stereo_is_mixed_down_by_averaging_the_channels()
    {
        short[] interleaved = [1000, 3000, -2000, 2000, 32767, 32767];
        var wav = WavReader.Read(TestWav.Build(1, 2, 44100, 16, TestWav.Pcm16(interleaved)), "x.wav");
        Assert.Equal(2, wav.Channels);
        Assert.Equal(new[] { 2000f / 32768, 0f, 32767f / 32768 }, wav.Mono);
    }

    [Fact]
    public void Audio_resampling_to_44k1_keeps_the_pitch_and_the_duration()
    {
        const int rate = 22050, n = 22050; // 1 s of 440 Hz
        var wav = WavReader.Read(TestWav.Sine16(440, rate, n), "x.wav");
        var resampled = AudioResampler.Resample(wav.Mono, rate, AudioHeadConfig.SampleRate);
        Assert.InRange(resampled.Length, 44100 - 2, 44100 + 2);
        // Rising zero crossings away from the edges: 440 a second, so 400 in 40100 samples at 44.1 kHz (880 at 22.05 kHz).
        int crossings = 0;
        for (int i = 2000; i < 42100; i++)
            if (resampled[i - 1] < 0 && resampled[i] >= 0) crossings++;
        Assert.InRange(crossings, 399, 401);
        Assert.InRange(resampled.Skip(2000).Take(40000).Max(), 0.48f, 0.52f); // amplitude 0.5 kept
    }

    [Fact]
    public void Audio_errors_name_what_is_wrong_with_the_file()
    {
        var dir = TransformerTestSupport.TempDir();
        var config = AudioHeadConfig.Published();
        string Error(string name, byte[] bytes) =>
            Assert.Throws<AudioFormatException>(() => AudioClipInput.Load(TestWav.Write(dir, name, bytes), config)).Message;

        Assert.Contains("not a WAV file: it does not start with RIFF....WAVE (first bytes: \"hello, world\")",
            Error("text.wav", "hello, world, this is text"u8.ToArray()));
        Assert.Contains("the file is empty (0 bytes)", Error("empty.wav", []));
        Assert.Contains("the data chunk holds no samples (0 frames)", Error("silent.wav", TestWav.Build(1, 1, 44100, 16, [])));
        Assert.Contains("unsupported encoding PCM 8-bit; supported: PCM 16, 24 or 32-bit, or IEEE float 32-bit",
            Error("pcm8.wav", TestWav.Build(1, 1, 8000, 8, new byte[100])));
        Assert.Contains("unsupported encoding Microsoft ADPCM (format tag 2)", Error("adpcm.wav", TestWav.Build(2, 1, 8000, 4, new byte[100])));
        var shortOne = Error("short.wav", TestWav.Sine16(440, 44100, 1000));
        Assert.Contains("too short: 1000 samples (22.7 ms at 44100 Hz); AudioCLIP needs at least one frame, 1654 samples at 44100 Hz (37.5 ms)", shortOne);
        Assert.Contains("short.wav", shortOne);
        Assert.Throws<FileNotFoundException>(() => AudioClipInput.Load(Path.Combine(dir, "missing.wav"), config));
    }
}
