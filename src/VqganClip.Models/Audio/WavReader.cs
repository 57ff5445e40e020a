using System.Buffers.Binary;
using System.Text;

namespace VqganClip.Models.Audio;

/// <summary>
/// Reads RIFF/WAVE files: PCM 16, 24 and 32 bit and IEEE float 32 bit (format tags 1 and 3, or WAVE_FORMAT_EXTENSIBLE
/// with those sub-formats), any number of channels, mixed down to mono by averaging. Samples come out in [−1, 1]
/// the way librosa (the AudioCLIP training pipeline's loader) scales them: integer PCM divided by 2^(bits−1).
/// Written here rather than taken from a package: NAudio's readers are Windows-centric and NWaves' does not name
/// what is wrong with a file; this one says which rule a bad file breaks.
/// </summary>
public static class WavReader
{
    private const ushort FormatPcm = 1, FormatFloat = 3, FormatExtensible = 0xFFFE;

    public static WavAudio Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Audio file '{path}' not found.", path);
        return Read(File.ReadAllBytes(path), path);
    }

    public static WavAudio Read(byte[] bytes, string path)
    {
        if (bytes.Length == 0)
            throw new AudioFormatException(path, "the file is empty (0 bytes)");
        if (bytes.Length < 12 || Encoding.ASCII.GetString(bytes, 0, 4) != "RIFF" || Encoding.ASCII.GetString(bytes, 8, 4) != "WAVE")
            throw new AudioFormatException(path, $"not a WAV file: it does not start with RIFF....WAVE (first bytes: {Shown(bytes)})");

        (ushort tag, int channels, int rate, int bits)? format = null;
        ReadOnlySpan<byte> data = default;
        bool sawData = false;
        int at = 12;
        while (at + 8 <= bytes.Length)
        {
            string id = Encoding.ASCII.GetString(bytes, at, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            int body = at + 8;
            long available = Math.Min(size, bytes.Length - body); // a truncated last chunk: take what is there
            if (id == "fmt ")
            {
                if (available < 16) throw new AudioFormatException(path, $"the fmt chunk is {available} bytes, shorter than the 16 a WAV format needs");
                var f = bytes.AsSpan(body);
                ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(f);
                int ch = BinaryPrimitives.ReadUInt16LittleEndian(f[2..]);
                int rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(f[4..]);
                int bits = BinaryPrimitives.ReadUInt16LittleEndian(f[14..]);
                if (tag == FormatExtensible && available >= 26)
                    tag = BinaryPrimitives.ReadUInt16LittleEndian(f[24..]); // the sub-format GUID starts with the format tag
                format = (tag, ch, rate, bits);
            }
            else if (id == "data")
            {
                data = bytes.AsSpan(body, (int)available);
                sawData = true;
            }
            at = body + (int)Math.Min(size + (size & 1), int.MaxValue - body); // chunks are padded to even sizes
            if (at < 0) break;
        }
        if (format is null) throw new AudioFormatException(path, "no fmt chunk: the WAV does not say how its samples are encoded");
        if (!sawData) throw new AudioFormatException(path, "no data chunk: the WAV holds no samples");
        var (fmtTag, channels, sampleRate, bitsPerSample) = format.Value;
        if (channels < 1) throw new AudioFormatException(path, $"the fmt chunk says {channels} channels");
        if (sampleRate < 1) throw new AudioFormatException(path, $"the fmt chunk says a sample rate of {sampleRate} Hz");

        string encoding = (fmtTag, bitsPerSample) switch
        {
            (FormatPcm, 16 or 24 or 32) => $"PCM {bitsPerSample}-bit",
            (FormatFloat, 32) => "float 32-bit",
            _ => throw new AudioFormatException(path,
                $"unsupported encoding {Describe(fmtTag, bitsPerSample)}; supported: PCM 16, 24 or 32-bit, or IEEE float 32-bit (convert it, e.g. `ffmpeg -i in -c:a pcm_s16le out.wav`)"),
        };
        int bytesPerSample = bitsPerSample / 8;
        int frameBytes = bytesPerSample * channels;
        int frames = data.Length / frameBytes;
        if (frames == 0) throw new AudioFormatException(path, "the data chunk holds no samples (0 frames)");

        var mono = new float[frames];
        for (int i = 0; i < frames; i++)
        {
            double sum = 0;
            for (int c = 0; c < channels; c++)
                sum += Sample(data.Slice(i * frameBytes + c * bytesPerSample, bytesPerSample), fmtTag);
            mono[i] = (float)(sum / channels);
        }
        return new WavAudio(sampleRate, channels, encoding, mono);
    }

    private static double Sample(ReadOnlySpan<byte> s, ushort tag) => (tag, s.Length) switch
    {
        (FormatFloat, 4) => BinaryPrimitives.ReadSingleLittleEndian(s),
        (_, 2) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768.0,
        (_, 3) => ((s[0] | (s[1] << 8) | (s[2] << 16)) << 8 >> 8) / 8388608.0, // sign-extend 24 bits
        _ => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0,
    };

    private static string Describe(ushort tag, int bits) => tag switch
    {
        FormatPcm => $"PCM {bits}-bit",
        FormatFloat => $"IEEE float {bits}-bit",
        2 => "Microsoft ADPCM (format tag 2)",
        6 => "A-law (format tag 6)",
        7 => "mu-law (format tag 7)",
        0x11 => "IMA ADPCM (format tag 0x11)",
        0x55 => "MP3 (format tag 0x55)",
        _ => $"format tag 0x{tag:X4} ({bits}-bit)",
    };

    private static string Shown(byte[] bytes)
    {
        var head = bytes.Take(12).ToArray();
        bool printable = head.All(b => b is >= 32 and < 127);
        return printable ? $"\"{Encoding.ASCII.GetString(head)}\"" : string.Join(" ", head.Select(b => b.ToString("x2")));
    }
}
