using System.Buffers.Binary;
using System.Text;

namespace VqganClip.Tests.AudioClip;

/// <summary>Builds WAV files in memory for the reader tests (interleaved frames, any format tag and sample width).</summary>
internal static class TestWav
{
    public static byte[] Build(ushort formatTag, int channels, int sampleRate, int bits, byte[] data, bool extensible = false)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        int fmtSize = extensible ? 40 : 16;
        w.Write(Encoding.ASCII.GetBytes("RIFF"));
        w.Write(4 + 8 + fmtSize + 8 + data.Length);
        w.Write(Encoding.ASCII.GetBytes("WAVE"));
        w.Write(Encoding.ASCII.GetBytes("fmt "));
        w.Write(fmtSize);
        w.Write(extensible ? (ushort)0xFFFE : formatTag);
        w.Write((ushort)channels);
        w.Write(sampleRate);
        w.Write(sampleRate * channels * bits / 8);
        w.Write((ushort)(channels * bits / 8));
        w.Write((ushort)bits);
        if (extensible)
        {
            w.Write((ushort)22);
            w.Write((ushort)bits);
            w.Write(0);
            w.Write(formatTag);
            w.Write(new byte[14]); // rest of the sub-format GUID
        }
        w.Write(Encoding.ASCII.GetBytes("data"));
        w.Write(data.Length);
        w.Write(data);
        w.Flush();
        return ms.ToArray();
    }

    public static byte[] Pcm16(short[] interleaved)
    {
        var b = new byte[interleaved.Length * 2];
        for (int i = 0; i < interleaved.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(i * 2), interleaved[i]);
        return b;
    }

    /// <summary>A 16-bit mono sine of <paramref name="hz"/> at <paramref name="rate"/>, amplitude 0.5.</summary>
    public static byte[] Sine16(double hz, int rate, int samples) =>
        Build(1, 1, rate, 16, Pcm16(Enumerable.Range(0, samples).Select(i => (short)Math.Round(16384 * Math.Sin(2 * Math.PI * hz * i / rate))).ToArray()));

    public static string Write(string dir, string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
