using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.IO;

/// <summary>
/// Moves raw little-endian tensor bytes between files and tensor memory without per-element loops:
/// a tensor is allocated once and the file is read straight into its native buffer, in chunks of at
/// most <see cref="MaxChunkBytes"/> because a Span is limited to 2 GiB.
/// </summary>
internal static class TensorBytes
{
    /// <summary>Largest chunk handed to one read or write call (1 GiB).</summary>
    internal const int MaxChunkBytes = 1 << 30;

    /// <summary>Fills a destination span with the bytes starting at a byte offset relative to the tensor's start.</summary>
    internal delegate void ChunkReader(Span<byte> destination, long relativeOffset);

    internal static void EnsureLittleEndianHost()
    {
        Runtime.TorchRuntime.EnsureInitialized();
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Checkpoint readers assume a little-endian host.");
    }

    /// <summary>
    /// Allocates an uninitialised CPU tensor of <paramref name="shape"/> and fills it chunk by chunk
    /// from <paramref name="read"/>. The result is detached from any dispose scope: the caller owns it.
    /// </summary>
    internal static Tensor Create(TensorDType dtype, long[] shape, ChunkReader read)
    {
        EnsureLittleEndianHost();
        var tensor = torch.empty(shape, dtype.ScalarType, device: torch.CPU).DetachFromDisposeScope();
        try
        {
            long total = tensor.numel() * dtype.ItemSize;
            if (total == 0) return tensor;
            if (total <= MaxChunkBytes)
            {
                read(tensor.bytes, 0);
                return tensor;
            }

            using var flat = tensor.view(-1);
            long elementsPerChunk = MaxChunkBytes / dtype.ItemSize;
            long elements = tensor.numel();
            for (long start = 0; start < elements; start += elementsPerChunk)
            {
                long count = Math.Min(elementsPerChunk, elements - start);
                using var chunk = flat.narrow(0, start, count);
                read(chunk.bytes, start * dtype.ItemSize);
            }
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Reads exactly destination.Length bytes from a file handle at an absolute offset.</summary>
    internal static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> destination, long fileOffset)
    {
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(handle, destination, fileOffset);
            if (n <= 0) throw new EndOfStreamException($"unexpected end of file at byte {fileOffset}");
            destination = destination[n..];
            fileOffset += n;
        }
    }

    /// <summary>Writes a tensor's elements (row-major, little-endian) to a stream.</summary>
    internal static void Write(Tensor tensor, Stream stream)
    {
        EnsureLittleEndianHost();
        using var scope = torch.NewDisposeScope();
        var cpu = tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();
        var contiguous = cpu.is_contiguous() ? cpu : cpu.contiguous();
        long elements = contiguous.numel();
        long total = elements * contiguous.element_size();
        if (total == 0) return;
        if (total <= MaxChunkBytes)
        {
            stream.Write(contiguous.bytes);
            return;
        }

        var flat = contiguous.view(-1);
        long elementsPerChunk = MaxChunkBytes / contiguous.element_size();
        for (long start = 0; start < elements; start += elementsPerChunk)
        {
            long count = Math.Min(elementsPerChunk, elements - start);
            stream.Write(flat.narrow(0, start, count).bytes);
        }
    }
}
