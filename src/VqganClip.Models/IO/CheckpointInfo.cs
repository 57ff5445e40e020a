namespace VqganClip.Models.IO;

/// <summary>What a checkpoint holds, read without loading its tensor data: format, metadata and each tensor's name, dtype and shape.</summary>
public sealed record CheckpointInfo(string Path, string Format, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<TensorInfo> Tensors)
{
    public long TotalElements => Tensors.Sum(t => t.ElementCount);

    public long TotalBytes => Tensors.Sum(t => t.ByteCount);
}
