using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// Reads the 1-D integer .npy file taming's <c>remap</c> option names (np.load of the "used" indices).
/// Hand-written: the format needed is a magic string, a small Python-dict header and raw integers,
/// and the served .NET NumPy port (NumSharp) would bring a whole array library for these 40 lines.
/// </summary>
public static partial class NpyIndexFile
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not a .npy file, or not a 1-D little-endian integer array.</exception>
    public static long[] Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Remap index file '{path}' does not exist.", path);
        var bytes = File.ReadAllBytes(path);
        InvalidDataException Bad(string problem) => new($"Remap index file '{path}': {problem}");

        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw Bad("not a .npy file (no \\x93NUMPY magic).");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3 && bytes.Length >= 12) { headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)); headerStart = 12; }
        else throw Bad($"unsupported .npy version {major}.");
        if (headerStart + headerLength > bytes.Length) throw Bad("truncated header.");
        var header = Encoding.Latin1.GetString(bytes, headerStart, headerLength);

        var descr = DescrPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !shape.Success) throw Bad($"unreadable header {header.Trim()}.");
        if (FortranPattern().IsMatch(header)) throw Bad("Fortran-ordered arrays are not supported.");
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (dims.Length != 1 || !long.TryParse(dims[0], out var count)) throw Bad($"expected a 1-D array, shape is ({shape.Groups[1].Value}).");

        string type = descr.Groups[1].Value;
        int width = type switch { "<i8" or "<u8" => 8, "<i4" or "<u4" => 4, "<i2" or "<u2" => 2, "|i1" or "|u1" => 1, _ => 0 };
        if (width == 0) throw Bad($"expected little-endian integers, dtype is '{type}'.");
        int dataStart = headerStart + headerLength;
        if (dataStart + count * width > bytes.Length) throw Bad($"truncated: {count} values of {width} bytes do not fit.");

        var values = new long[count];
        var data = bytes.AsSpan(dataStart);
        bool unsigned = type[1] == 'u';
        for (int i = 0; i < count; i++)
        {
            var v = data.Slice(i * width, width);
            values[i] = width switch
            {
                8 => BinaryPrimitives.ReadInt64LittleEndian(v),
                4 => unsigned ? BinaryPrimitives.ReadUInt32LittleEndian(v) : BinaryPrimitives.ReadInt32LittleEndian(v),
                2 => unsigned ? BinaryPrimitives.ReadUInt16LittleEndian(v) : BinaryPrimitives.ReadInt16LittleEndian(v),
                _ => unsigned ? v[0] : (sbyte)v[0],
            };
        }
        return values;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*True")]
    private static partial Regex FortranPattern();
}
