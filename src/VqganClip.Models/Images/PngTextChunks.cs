using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace VqganClip.Models.Images;

/// <summary>
/// PNG text metadata (prompt, seed, settings): writes tEXt chunks (Latin-1 text) or iTXt chunks (UTF-8, for
/// any text outside Latin-1, e.g. a prompt in Japanese) right after IHDR, and reads tEXt, iTXt and zTXt back.
/// Hand-written because SkiaSharp's PNG encoder has no option for text chunks; the chunk layout and CRC
/// follow the PNG specification (CRC-32 over type + data, from System.IO.Hashing).
/// </summary>
public static class PngTextChunks
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>A copy of <paramref name="png"/> with one text chunk per entry inserted after IHDR.</summary>
    public static byte[] Insert(ReadOnlySpan<byte> png, IEnumerable<KeyValuePair<string, string>> entries, string source = "PNG data")
    {
        ArgumentNullException.ThrowIfNull(entries);
        int afterIhdr = CheckSignatureAndIhdr(png, source);
        using var output = new MemoryStream(png.Length + 256);
        output.Write(png[..afterIhdr]);
        foreach (var (key, value) in entries)
        {
            ValidateKeyword(key);
            ArgumentNullException.ThrowIfNull(value, $"value of '{key}'");
            if (IsLatin1(value))
                WriteChunk(output, "tEXt", [.. Latin1.GetBytes(key), 0, .. Latin1.GetBytes(value)]);
            else // iTXt: keyword, 0, compression flag 0, method 0, empty language tag, 0, empty translated keyword, 0, UTF-8 text
                WriteChunk(output, "iTXt", [.. Latin1.GetBytes(key), 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(value)]);
        }
        output.Write(png[afterIhdr..]);
        return output.ToArray();
    }

    /// <summary>All text entries of a PNG file, in file order (a repeated key keeps its last value).</summary>
    public static Dictionary<string, string> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"PNG file not found: {path}", path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>All text entries of PNG bytes; <paramref name="source"/> names the data in errors.</summary>
    public static Dictionary<string, string> Read(ReadOnlySpan<byte> png, string source = "PNG data")
    {
        int pos = CheckSignatureAndIhdr(png, source);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (pos < png.Length)
        {
            string type = ReadChunk(png, pos, source, out int dataStart, out int dataLength, out int next);
            var data = png.Slice(dataStart, dataLength);
            switch (type)
            {
                case "tEXt":
                {
                    int zero = IndexOfZero(data, type, source);
                    result[Latin1.GetString(data[..zero])] = Latin1.GetString(data[(zero + 1)..]);
                    break;
                }
                case "zTXt":
                {
                    int zero = IndexOfZero(data, type, source);
                    result[Latin1.GetString(data[..zero])] = Latin1.GetString(Inflate(data[(zero + 2)..], source));
                    break;
                }
                case "iTXt":
                {
                    int zero = IndexOfZero(data, type, source);
                    string key = Latin1.GetString(data[..zero]);
                    if (data.Length < zero + 3) throw Corrupt(source, "iTXt chunk is truncated");
                    bool compressed = data[zero + 1] != 0;
                    var rest = data[(zero + 3)..];
                    int languageEnd = IndexOfZero(rest, type, source);
                    rest = rest[(languageEnd + 1)..];
                    int translatedEnd = IndexOfZero(rest, type, source);
                    var text = rest[(translatedEnd + 1)..];
                    result[key] = Encoding.UTF8.GetString(compressed ? Inflate(text, source) : text);
                    break;
                }
            }
            if (type == "IEND") break;
            pos = next;
        }
        return result;
    }

    private static int CheckSignatureAndIhdr(ReadOnlySpan<byte> png, string source)
    {
        if (png.Length < Signature.Length || !png[..Signature.Length].SequenceEqual(Signature))
            throw Corrupt(source, "not a PNG (bad signature)");
        string type = ReadChunk(png, Signature.Length, source, out _, out _, out int next);
        if (type != "IHDR") throw Corrupt(source, $"first chunk is {type}, not IHDR");
        return next;
    }

    /// <summary>Reads and CRC-checks the chunk at <paramref name="pos"/>; returns its type.</summary>
    private static string ReadChunk(ReadOnlySpan<byte> png, int pos, string source, out int dataStart, out int dataLength, out int next)
    {
        if (pos + 12 > png.Length) throw Corrupt(source, $"truncated chunk header at byte {pos}");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
        if (length > int.MaxValue || pos + 12 + (long)length > png.Length)
            throw Corrupt(source, $"chunk at byte {pos} claims {length} bytes, past the end of the data");
        var typeAndData = png.Slice(pos + 4, 4 + (int)length);
        uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
        string type = Encoding.ASCII.GetString(typeAndData[..4]);
        if (Crc32.HashToUInt32(typeAndData) != storedCrc)
            throw Corrupt(source, $"CRC mismatch in {type} chunk at byte {pos}");
        dataStart = pos + 8;
        dataLength = (int)length;
        next = pos + 12 + (int)length;
        return type;
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
        output.Write(header);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(header, Crc32.HashToUInt32(typeAndData));
        output.Write(header);
    }

    /// <summary>PNG keywords: 1-79 Latin-1 printable characters, no leading, trailing or double spaces.</summary>
    private static void ValidateKeyword(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 79
            || key.Any(c => c is < ' ' or (> '~' and < '\u00A1') or > '\u00FF')
            || key.StartsWith(' ') || key.EndsWith(' ') || key.Contains("  ", StringComparison.Ordinal))
            throw new ArgumentException(
                $"PNG text keyword \"{key}\" is invalid: it must be 1-79 printable Latin-1 characters without leading, trailing or double spaces.",
                nameof(key));
    }

    private static bool IsLatin1(string text) => text.All(c => c <= '\u00FF' && c != '\0');

    private static int IndexOfZero(ReadOnlySpan<byte> data, string type, string source)
    {
        int zero = data.IndexOf((byte)0);
        return zero >= 0 ? zero : throw Corrupt(source, $"{type} chunk has no keyword terminator");
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed, string source)
    {
        try
        {
            using var input = new ZLibStream(new MemoryStream(compressed.ToArray()), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(source, "compressed text chunk does not inflate: " + e.Message);
        }
    }

    private static InvalidDataException Corrupt(string source, string problem) =>
        new($"'{source}': {problem}.");
}
