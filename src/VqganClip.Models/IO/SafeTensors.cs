using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.IO;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
/// then the raw little-endian data. Hand-written because no served .NET package reads it into
/// TorchSharp tensors; the header is validated in full before any tensor data is touched, and
/// only the tensors asked for are read (positional reads straight into tensor memory).
/// </summary>
public static class SafeTensors
{
    /// <summary>Names, dtypes, shapes and metadata of a file, without reading tensor data.</summary>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        using var handle = Open(path);
        return SafeTensorsHeader.Parse(path, handle);
    }

    /// <summary>Reads every tensor of a file (or those whose name passes <paramref name="filter"/>), in file order.</summary>
    public static StateDict Read(string path, Func<string, bool>? filter = null)
    {
        using var handle = Open(path);
        var header = SafeTensorsHeader.Parse(path, handle);
        var result = new StateDict(CheckpointFormats.SafeTensors, path);
        foreach (var (key, value) in header.Metadata) result.Metadata[key] = value;
        try
        {
            foreach (var entry in header.Tensors)
            {
                if (filter is not null && !filter(entry.Name)) continue;
                long start = header.DataOffset + entry.Begin;
                var tensor = TensorBytes.Create(entry.Info.DType, entry.Info.Shape,
                    (destination, relative) => TensorBytes.ReadExactly(handle, destination, start + relative));
                result.Add(entry.Name, tensor);
            }
        }
        catch (Exception e) when (e is IOException)
        {
            result.Dispose();
            throw new CheckpointFormatException(path, CheckpointFormats.SafeTensors, $"could not read tensor data: {e.Message}", e);
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Writes a state dict (its tensors in order, plus its metadata).</summary>
    public static void Write(string path, StateDict stateDict) =>
        Write(path, stateDict.Entries.Select(e => (e.Key, e.Value)), stateDict.Metadata);

    /// <summary>
    /// Writes tensors in the given order, as the reference writer lays them out: compact JSON header
    /// padded with spaces to a multiple of 8 bytes, then each tensor's bytes back to back.
    /// </summary>
    public static void Write(string path, IEnumerable<(string name, Tensor t)> tensors, IDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in list)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"Duplicate tensor name '{name}'.", nameof(tensors));
            if (TensorDType.FromScalarType(tensor.dtype) is null)
                throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors cannot hold here.", nameof(tensors));
        }

        var header = BuildHeader(list, metadata);
        var temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var (_, tensor) in list) TensorBytes.Write(tensor, stream);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static byte[] BuildHeader(List<(string name, Tensor t)> tensors, IDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                var dtype = TensorDType.FromScalarType(tensor.dtype)!;
                long bytes = tensor.numel() * dtype.ItemSize;
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.SafeTensorsName);
                json.WriteStartArray("shape");
                foreach (var d in tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }

        // The reference pads the header with spaces so the data section starts 8-byte aligned.
        while ((buffer.Length + 8) % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint file '{path}' does not exist.", path);
        return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
    }
}
