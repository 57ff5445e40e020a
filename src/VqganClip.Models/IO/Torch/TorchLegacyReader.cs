using System.Buffers.Binary;
using System.Numerics;
using TorchSharp;
using VqganClip.Models.IO.Pickle;
using static TorchSharp.torch;

namespace VqganClip.Models.IO.Torch;

/// <summary>
/// The legacy (pre-1.6, non-zip) torch.save format, as torch/serialization.py <c>_legacy_load</c>
/// reads it: five consecutive pickles — the magic number 0x1950a86a20f9469cfc6c, the protocol version
/// 1001, a sys_info dict, the main object (storages as persistent ids
/// <c>('storage', type, root_key, location, numel, view_metadata)</c>) and the list of storage keys —
/// followed, for each key in that list's order, by an int64 element count and the storage's raw bytes.
/// </summary>
internal static class TorchLegacyReader
{
    private static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356"); // 0x1950a86a20f9469cfc6c
    private const long ProtocolVersion = 1001;

    public static OpenedTorchCheckpoint Open(string path)
    {
        const string format = CheckpointFormats.TorchLegacy;
        FileStream? file = null;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var plain = new PlainDataResolver();

            var magic = new PickleReader(file, plain).Load();
            if (!IsMagic(magic))
                throw new CheckpointFormatException(path, format, $"first pickle is {PyFormat.Describe(magic)}, not the torch.save magic number");
            var protocol = new PickleReader(file, plain).Load();
            if (protocol is not long p || p != ProtocolVersion)
                throw new CheckpointFormatException(path, format, $"unsupported legacy protocol version {PyFormat.Describe(protocol)} (expected {ProtocolVersion})");
            var sysInfo = new PickleReader(file, plain).Load();
            if (sysInfo is PyDict info && info.TryGet("little_endian", out var little) && little is false)
                throw new CheckpointFormatException(path, format, "file was written on a big-endian machine; only little-endian files are supported");

            var resolver = new TorchPickleResolver();
            var root = new PickleReader(file, resolver).Load();
            var content = TorchCheckpointContent.From(root);

            var keys = new PickleReader(file, plain).Load() as List<object?>
                ?? throw new CheckpointFormatException(path, format, "the storage key list after the main pickle is missing or not a list");

            var offsets = LocateStorages(path, file, keys, resolver);
            var handle = file.SafeFileHandle;
            var opened = new OpenedTorchCheckpoint(path, format, content, storage =>
            {
                long start = offsets[storage.Key];
                return TensorBytes.Create(storage.DType, [storage.Numel], (destination, relative) => TensorBytes.ReadExactly(handle, destination, start + relative));
            }, file);
            file = null;
            return opened;
        }
        catch (PickleException e)
        {
            throw new CheckpointFormatException(path, format, e.Message, e);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException(path, format, $"file is truncated: {e.Message}", e);
        }
        finally
        {
            file?.Dispose();
        }
    }

    private static bool IsMagic(object? value) => value switch
    {
        BigInteger b => b == MagicNumber,
        _ => false,
    };

    // Walks the storage section: [int64 numel][numel * itemsize bytes] per key, checking each against the file.
    private static Dictionary<string, long> LocateStorages(string path, FileStream file, List<object?> keys, TorchPickleResolver resolver)
    {
        const string format = CheckpointFormats.TorchLegacy;
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        long position = file.Position;
        long length = file.Length;
        Span<byte> countBytes = stackalloc byte[8];
        foreach (var keyObject in keys)
        {
            if (keyObject is not string key)
                throw new CheckpointFormatException(path, format, $"storage key {PyFormat.Describe(keyObject)} is not a string");
            if (!resolver.Roots.TryGetValue(key, out var storage))
                throw new CheckpointFormatException(path, format, $"storage key '{key}' is listed but never used by the pickle");
            if (offsets.ContainsKey(key))
                throw new CheckpointFormatException(path, format, $"storage key '{key}' is listed twice");
            if (length - position < 8)
                throw new CheckpointFormatException(path, format, $"file is truncated at storage '{key}' (byte {position} of {length})");
            TensorBytes.ReadExactly(file.SafeFileHandle, countBytes, position);
            long count = BinaryPrimitives.ReadInt64LittleEndian(countBytes);
            if (count != storage.Numel)
                throw new CheckpointFormatException(path, format, $"storage '{key}' has {count} elements in the file but {storage.Numel} in the pickle");
            long bytes = storage.ByteCount;
            if (bytes > length - position - 8)
                throw new CheckpointFormatException(path, format, $"file is truncated: storage '{key}' needs {bytes} bytes at byte {position + 8} but the file ends at {length}");
            offsets[key] = position + 8;
            position += 8 + bytes;
        }
        foreach (var key in resolver.Roots.Keys)
            if (!offsets.ContainsKey(key))
                throw new CheckpointFormatException(path, format, $"storage '{key}' used by the pickle is not in the storage key list");
        return offsets;
    }

    /// <summary>For the small header pickles: plain data only, no globals, no persistent ids.</summary>
    private sealed class PlainDataResolver : IPickleResolver
    {
        public object? ResolveGlobal(string module, string name) =>
            throw new PickleException($"header pickle references {module}.{name}; only plain data is expected there");

        public object? Call(object? callable, PyTuple args) => throw new PickleException("header pickle calls a function");

        public object? NewObject(object? cls, PyTuple args) => throw new PickleException("header pickle builds an object");

        public void Build(object? target, object? state) => throw new PickleException("header pickle builds an object");

        public object? PersistentLoad(object? pid) => throw new PickleException("header pickle uses a persistent id");
    }
}
