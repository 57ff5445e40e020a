using TorchSharp;
using VqganClip.Models.IO.Pickle;
using static TorchSharp.torch;

namespace VqganClip.Models.IO.Torch;

/// <summary>
/// A torch.save / TorchScript file whose pickle has been read and whose storage records have been
/// located and size-checked, but whose tensor data has not been read yet. <see cref="Inspect"/>
/// needs nothing more; <see cref="Load"/> reads just the storages the selected tensors use.
/// </summary>
internal sealed class OpenedTorchCheckpoint(string path, string format, TorchCheckpointContent content, Func<StorageRoot, Tensor> readStorage, IDisposable? resource) : IDisposable
{
    public string Path { get; } = path;

    public string Format { get; } = format;

    public TorchCheckpointContent Content { get; } = content;

    public CheckpointInfo Inspect() =>
        new(Path, Format, new Dictionary<string, string>(Content.Metadata), Content.Tensors.Select(t => t.Tensor.Info(t.Name)).ToList());

    public StateDict Load(Func<string, bool>? filter)
    {
        var result = new StateDict(Format, Path);
        foreach (var (k, v) in Content.Metadata) result.Metadata[k] = v;
        var roots = new Dictionary<StorageRoot, Tensor>(ReferenceEqualityComparer.Instance);
        try
        {
            foreach (var (name, tensorRef) in Content.Tensors)
            {
                if (filter is not null && !filter(name)) continue;
                if (result.ContainsKey(name))
                    throw new CheckpointFormatException(Path, Format, $"tensor name '{name}' appears twice");
                if (!roots.TryGetValue(tensorRef.Storage.Root, out var root))
                {
                    root = ReadStorage(tensorRef.Storage.Root);
                    roots[tensorRef.Storage.Root] = root;
                }
                // A strided view of the storage: offsets, strides and sharing exactly as torch.load gives them.
                var tensor = root.as_strided(tensorRef.Size, tensorRef.Stride, tensorRef.RootOffset).DetachFromDisposeScope();
                result.Add(name, tensor);
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            // The views keep the storage memory alive; the root handles themselves are no longer needed.
            foreach (var root in roots.Values) root.Dispose();
        }
    }

    private Tensor ReadStorage(StorageRoot root)
    {
        try
        {
            return readStorage(root);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or PickleException)
        {
            throw new CheckpointFormatException(Path, Format, $"could not read storage '{root.Key}' ({root.Numel} x {root.DType}): {e.Message}", e);
        }
    }

    public void Dispose() => resource?.Dispose();
}
