using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace VqganClip.Models.IO;

/// <summary>One tensor of a safetensors file: what it is and where its bytes lie (relative to the data section).</summary>
public sealed record SafeTensorsEntry(TensorInfo Info, long Begin, long End)
{
    public string Name => Info.Name;
}

/// <summary>
/// The parsed and validated JSON header of a safetensors file. Everything the file claims is checked
/// against the real file length before anything is allocated or read: a header that passes
/// <see cref="Parse"/> describes byte ranges that exist, do not overlap and match their shapes.
/// </summary>
public sealed class SafeTensorsHeader
{
    /// <summary>Same cap as the reference implementation (huggingface/safetensors MAX_HEADER_SIZE).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private SafeTensorsHeader(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafeTensorsEntry> tensors, long dataOffset, long fileLength)
    {
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        FileLength = fileLength;
    }

    /// <summary>The <c>__metadata__</c> strings (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafeTensorsEntry> Tensors { get; }

    /// <summary>Absolute file offset of the data section (8 + header length).</summary>
    public long DataOffset { get; }

    public long FileLength { get; }

    internal static SafeTensorsHeader Parse(string path, SafeFileHandle handle)
    {
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
            throw Bad(path, $"file is {fileLength} bytes, too short for the 8-byte header length");

        Span<byte> lengthBytes = stackalloc byte[8];
        TensorBytes.ReadExactly(handle, lengthBytes, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Bad(path, $"header length {headerLength} exceeds the {fileLength - 8} bytes that follow it (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw Bad(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength < 2)
            throw Bad(path, $"header length {headerLength} is too small for a JSON object");

        var json = new byte[(int)headerLength];
        TensorBytes.ReadExactly(handle, json, 8);
        long dataOffset = 8 + (long)headerLength;
        return ParseJson(path, json, dataOffset, fileLength);
    }

    private static SafeTensorsHeader ParseJson(string path, byte[] json, long dataOffset, long fileLength)
    {
        if (json[0] != (byte)'{')
            throw Bad(path, "header does not start with '{'");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Bad(path, $"header is not well-formed JSON ({e.Message})", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Bad(path, "header is not a JSON object");

            long dataLength = fileLength - dataOffset;
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafeTensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Bad(path, $"header names '{property.Name}' twice");
                if (property.Name == "__metadata__")
                    ReadMetadata(path, property.Value, metadata);
                else
                    tensors.Add(ReadEntry(path, property.Name, property.Value, dataLength));
            }

            CheckNoOverlap(path, tensors);
            return new SafeTensorsHeader(metadata, tensors, dataOffset, fileLength);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad(path, "__metadata__ is not a JSON object");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Bad(path, $"__metadata__ value '{item.Name}' is a {item.Value.ValueKind}, but only strings are allowed");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Bad(path, $"__metadata__ names '{item.Name}' twice");
        }
    }

    private static SafeTensorsEntry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad(path, $"tensor '{name}' is not described by a JSON object");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Bad(path, $"tensor '{name}' has no string 'dtype'");
        var dtypeName = dtypeElement.GetString()!;
        var dtype = TensorDType.FromSafeTensorsName(dtypeName)
            ?? throw Bad(path, $"tensor '{name}' has unknown dtype '{dtypeName}' (known: {string.Join(", ", TensorDType.All.Select(d => d.SafeTensorsName))})");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Bad(path, $"tensor '{name}' has no 'shape' array");
        var shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d))
                throw Bad(path, $"tensor '{name}' has a non-integer dimension {dim.GetRawText()} in its shape");
            if (d < 0)
                throw Bad(path, $"tensor '{name}' has a negative dimension {d} in its shape");
            shape[i++] = d;
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw Bad(path, $"tensor '{name}' has no 'data_offsets' pair");
        var begin = ReadOffset(path, name, offsetsElement[0]);
        var end = ReadOffset(path, name, offsetsElement[1]);
        if (begin > end)
            throw Bad(path, $"tensor '{name}' has data_offsets [{begin}, {end}] that run backwards");
        if (end > dataLength)
            throw Bad(path, $"tensor '{name}' has data_offsets [{begin}, {end}] beyond the {dataLength}-byte data section (truncated file?)");

        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * dtype.ItemSize);
        }
        catch (OverflowException)
        {
            throw Bad(path, $"tensor '{name}' has a shape [{string.Join(", ", shape)}] too large to address");
        }
        if (expected != end - begin)
            throw Bad(path, $"tensor '{name}' of dtype {dtype} and shape [{string.Join(", ", shape)}] needs {expected} bytes but data_offsets [{begin}, {end}] hold {end - begin}");

        return new SafeTensorsEntry(new TensorInfo(name, dtype, shape), begin, end);
    }

    private static long ReadOffset(string path, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var v) || v < 0)
            throw Bad(path, $"tensor '{name}' has an invalid data offset {element.GetRawText()}");
        return v;
    }

    private static void CheckNoOverlap(string path, List<SafeTensorsEntry> tensors)
    {
        var sorted = tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].Begin < sorted[i - 1].End)
                throw Bad(path, $"tensors '{sorted[i - 1].Name}' [{sorted[i - 1].Begin}, {sorted[i - 1].End}] and '{sorted[i].Name}' [{sorted[i].Begin}, {sorted[i].End}] overlap");
        }
    }

    private static CheckpointFormatException Bad(string path, string problem, Exception? inner = null) =>
        new(path, CheckpointFormats.SafeTensors, problem, inner);
}
