using System.Buffers.Binary;
using VqganClip.Models.IO.Torch;

namespace VqganClip.Models.IO;

/// <summary>
/// Opens any checkpoint the toolkit knows, whatever its extension says, by its first bytes:
/// safetensors (8-byte header length then '{'), zip ('PK\x03\x04': torch.save 1.6+ or TorchScript),
/// or a legacy torch.save pickle stream (0x80 PROTO). An HTML page or a git-lfs pointer in its place is named as
/// such (<see cref="StandInFiles"/>). Every reader returns tensors under the file's
/// own names and throws only <see cref="CheckpointFormatException"/> for files it cannot trust
/// (<see cref="FileNotFoundException"/> when there is no file at all).
/// </summary>
public static class Checkpoint
{
    /// <summary>Which format the file is in (one of <see cref="CheckpointFormats"/>).</summary>
    public static string DetectFormat(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint file '{path}' does not exist.", path);
        var head = new byte[512];
        long length;
        int n;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = stream.Length;
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        var bytes = head.AsSpan(0, n);

        if (n >= 9 && bytes[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(bytes) <= (ulong)(length - 8))
            return CheckpointFormats.SafeTensors;
        if (n >= 4 && bytes[0] == (byte)'P' && bytes[1] == (byte)'K' && bytes[2] == 3 && bytes[3] == 4)
        {
            try
            {
                return TorchZipReader.IsTorchScriptFile(path) ? CheckpointFormats.TorchScript : CheckpointFormats.TorchZip;
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(path, CheckpointFormats.TorchZip, $"not a readable zip archive (truncated or corrupted): {e.Message}", e);
            }
        }
        if (n >= 2 && bytes[0] == 0x80 && bytes[1] <= 5)
            return CheckpointFormats.TorchLegacy;
        if (n >= 262 && bytes.Slice(257, 5).SequenceEqual("ustar"u8))
            throw new CheckpointFormatException(path, "tar", "this is the pre-0.4 tar variant of torch.save, which is not supported; re-save it with a newer PyTorch");
        if (StandInFiles.Describe(bytes, path) is { } standIn)
            throw CheckpointFormatException.ForWholeFile(path, standIn.Format, standIn.Message);
        if (n >= 8 && bytes[0] == (byte)'{')
            throw new CheckpointFormatException(path, "checkpoint", "this looks like a JSON file, not a checkpoint");

        var shown = Convert.ToHexString(bytes[..Math.Min(n, 8)]);
        throw new CheckpointFormatException(path, "checkpoint", n == 0
            ? "file is empty"
            : $"unrecognised checkpoint format (first bytes {shown}; expected safetensors, a torch.save zip or pickle, or a TorchScript archive)");
    }

    /// <summary>Loads every tensor (or those whose name passes <paramref name="filter"/>) of a checkpoint in any supported format.</summary>
    public static StateDict Load(string path, Func<string, bool>? filter = null)
    {
        var format = DetectFormat(path);
        if (format == CheckpointFormats.SafeTensors) return SafeTensors.Read(path, filter);
        using var opened = OpenTorch(path, format);
        return opened.Load(filter);
    }

    /// <summary>Format, metadata and every tensor's name, dtype and shape, without reading tensor data.</summary>
    public static CheckpointInfo Inspect(string path)
    {
        var format = DetectFormat(path);
        if (format == CheckpointFormats.SafeTensors)
        {
            var header = SafeTensors.ReadHeader(path);
            return new CheckpointInfo(path, format, new Dictionary<string, string>(header.Metadata), header.Tensors.Select(t => t.Info).ToList());
        }
        using var opened = OpenTorch(path, format);
        return opened.Inspect();
    }

    private static OpenedTorchCheckpoint OpenTorch(string path, string format) =>
        format == CheckpointFormats.TorchLegacy ? TorchLegacyReader.Open(path) : TorchZipReader.Open(path);
}
