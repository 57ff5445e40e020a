using System.IO.Compression;
using System.Text;
using TorchSharp;
using VqganClip.Models.IO.Pickle;
using static TorchSharp.torch;

namespace VqganClip.Models.IO.Torch;

/// <summary>
/// torch.save zip archives (PyTorch 1.6+: .pt/.pth/.bin/.ckpt) and torch.jit.save archives. Layout:
/// <c>&lt;top&gt;/data.pkl</c> (the pickle), <c>&lt;top&gt;/data/&lt;key&gt;</c> (one raw little-endian
/// record per storage, stored uncompressed), <c>&lt;top&gt;/version</c>, and for TorchScript also
/// <c>constants.pkl</c> and <c>code/</c>. The top folder's name varies with the file name it was saved under.
/// </summary>
internal static class TorchZipReader
{
    /// <summary>data.pkl bigger than this is not a checkpoint pickle (its tensors live outside it).</summary>
    private const long MaxPickleBytes = int.MaxValue;

    private const long MaxDeflateRatio = 1032;

    public static OpenedTorchCheckpoint Open(string path)
    {
        var format = CheckpointFormats.TorchZip;
        ZipArchive? archive = null;
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
            long fileLength = stream.Length;
            try
            {
                archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
            }
            catch
            {
                stream.Dispose();
                throw;
            }

            var pickleEntry = FindDataPickle(archive)
                ?? throw new CheckpointFormatException(path, format, "zip archive has no data.pkl record (not a torch.save or TorchScript file)");
            var prefix = pickleEntry.FullName[..^"data.pkl".Length];
            if (IsTorchScript(archive, prefix)) format = CheckpointFormats.TorchScript;

            var byteOrder = archive.GetEntry(prefix + "byteorder");
            if (byteOrder is not null && ReadSmallText(byteOrder).Trim() == "big")
                throw new CheckpointFormatException(path, format, "storages are big-endian (byteorder record says 'big'); only little-endian files are supported");

            var resolver = new TorchPickleResolver();
            object? root;
            using (var pickle = ReadBounded(pickleEntry, MaxPickleBytes))
                root = new PickleReader(pickle, resolver).Load();
            var content = TorchCheckpointContent.From(root);
            if (content.IsModuleTree) format = CheckpointFormats.TorchScript;

            // Every storage the listed tensors use must exist and be large enough, before anything is read. Storages of
            // entries the content does not list (a StyleGAN2 checkpoint's "g" and "d") are never read, so not required.
            var records = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            var used = content.Tensors.Select(t => t.Tensor.Storage.Root).Distinct(ReferenceEqualityComparer.Instance).Cast<StorageRoot>().ToHashSet(ReferenceEqualityComparer.Instance);
            foreach (var storage in resolver.Roots.Values.Where(used.Contains))
            {
                var name = prefix + "data/" + storage.Key;
                var entry = archive.GetEntry(name)
                    ?? throw new CheckpointFormatException(path, format, $"storage record '{name}' named by the pickle is missing");
                if (entry.Length < storage.ByteCount)
                    throw new CheckpointFormatException(path, format, $"storage record '{name}' holds {entry.Length} bytes but the pickle needs {storage.ByteCount} ({storage.Numel} x {storage.DType})");
                // The zip directory's sizes are claims too: bound what will be allocated by real bytes.
                // torch.save stores records uncompressed; a compressed one may not expand beyond deflate's 1032:1.
                if (entry.CompressedLength > fileLength || storage.ByteCount > Math.Max(entry.CompressedLength, 1) * MaxDeflateRatio)
                    throw new CheckpointFormatException(path, format, $"storage record '{name}' claims {entry.Length} bytes from {entry.CompressedLength} stored bytes in a {fileLength}-byte file");
                records[storage.Key] = entry;
            }

            var opened = new OpenedTorchCheckpoint(path, format, content, storage => ReadRecord(records[storage.Key], storage), archive);
            archive = null;
            return opened;
        }
        catch (PickleException e)
        {
            throw new CheckpointFormatException(path, format, e.Message, e);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(path, format, $"not a readable zip archive (truncated or corrupted): {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException(path, format, $"zip archive is truncated: {e.Message}", e);
        }
        finally
        {
            archive?.Dispose();
        }
    }

    /// <summary>True for a zip whose records look like a torch.save or TorchScript archive.</summary>
    public static bool IsTorchScriptFile(string path)
    {
        using var archive = ZipFile.OpenRead(path);
        var pickle = FindDataPickle(archive);
        return pickle is not null && IsTorchScript(archive, pickle.FullName[..^"data.pkl".Length]);
    }

    private static bool IsTorchScript(ZipArchive archive, string prefix) =>
        archive.GetEntry(prefix + "constants.pkl") is not null
        || archive.Entries.Any(e => e.FullName.StartsWith(prefix + "code/", StringComparison.Ordinal));

    private static ZipArchiveEntry? FindDataPickle(ZipArchive archive) =>
        archive.Entries
            .Where(e => e.FullName == "data.pkl" || (e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1))
            .OrderBy(e => e.FullName.Length)
            .FirstOrDefault();

    private static Tensor ReadRecord(ZipArchiveEntry entry, StorageRoot storage)
    {
        using var stream = entry.Open();
        long expected = 0;
        return TensorBytes.Create(storage.DType, [storage.Numel], (destination, relative) =>
        {
            if (relative != expected) throw new InvalidOperationException("zip records are read front to back");
            stream.ReadExactly(destination);
            expected += destination.Length;
        });
    }

    private static MemoryStream ReadBounded(ZipArchiveEntry entry, long limit)
    {
        if (entry.Length > limit) throw new PickleException($"{entry.FullName} is {entry.Length} bytes, beyond the {limit}-byte limit for a pickle");
        var buffer = new MemoryStream();
        using (var source = entry.Open())
        {
            var chunk = new byte[1 << 16];
            int n;
            while ((n = source.Read(chunk)) > 0)
            {
                if (buffer.Length + n > limit) throw new PickleException($"{entry.FullName} is larger than the {limit}-byte limit for a pickle");
                buffer.Write(chunk, 0, n);
            }
        }
        buffer.Position = 0;
        return buffer;
    }

    private static string ReadSmallText(ZipArchiveEntry entry)
    {
        using var stream = ReadBounded(entry, 1024);
        return Encoding.ASCII.GetString(stream.ToArray());
    }
}
