using TorchSharp;

namespace VqganClip.Models.IO;

/// <summary>
/// What every checkpoint reader returns: the file's tensors in file order, under the reference's
/// names exactly, plus whatever metadata the file carried (safetensors <c>__metadata__</c>,
/// Lightning's <c>epoch</c>/<c>global_step</c>, ...). Owns its tensors: dispose it, or take
/// the tensors out with <see cref="Detach"/> before you do.
/// </summary>
public sealed class StateDict : IDisposable
{
    private readonly List<string> _order = new();
    private readonly Dictionary<string, torch.Tensor> _tensors = new(StringComparer.Ordinal);

    public StateDict(string format, string? sourcePath = null)
    {
        Format = format;
        SourcePath = sourcePath;
    }

    /// <summary>Short name of the file format, e.g. "safetensors", "torch-zip", "torch-legacy", "torchscript".</summary>
    public string Format { get; }

    /// <summary>The file it came from, if any.</summary>
    public string? SourcePath { get; }

    /// <summary>String metadata of the file (never tensors).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public int Count => _order.Count;
    public IReadOnlyList<string> Keys => _order;
    public IEnumerable<KeyValuePair<string, torch.Tensor>> Entries => _order.Select(k => new KeyValuePair<string, torch.Tensor>(k, _tensors[k]));

    public torch.Tensor this[string name] =>
        _tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"No tensor named '{name}' in {Describe()}.");

    public bool ContainsKey(string name) => _tensors.ContainsKey(name);

    public bool TryGetValue(string name, out torch.Tensor tensor) => _tensors.TryGetValue(name, out tensor!);

    /// <summary>Whether two tensors hold the same values: same shape, same dtype, equal elementwise (on the CPU).</summary>
    public static bool SameTensor(torch.Tensor a, torch.Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var scope = torch.NewDisposeScope();
        return a.cpu().eq(b.cpu()).all().item<bool>();
    }

    /// <summary>Adds a tensor; the state dict takes ownership. Duplicate names are an error.</summary>
    public void Add(string name, torch.Tensor tensor)
    {
        if (!_tensors.TryAdd(name, tensor))
            throw new ArgumentException($"Duplicate tensor name '{name}' in {Describe()}.", nameof(name));
        _order.Add(name);
    }

    /// <summary>Removes a tensor from the map and disposes it.</summary>
    public bool Remove(string name)
    {
        if (!_tensors.Remove(name, out var t)) return false;
        _order.Remove(name);
        t.Dispose();
        return true;
    }

    /// <summary>Removes a tensor from the map without disposing it: the caller owns it now.</summary>
    public torch.Tensor Detach(string name)
    {
        if (!_tensors.Remove(name, out var t))
            throw new KeyNotFoundException($"No tensor named '{name}' in {Describe()}.");
        _order.Remove(name);
        return t;
    }

    public string Describe() => SourcePath is null ? $"{Format} state dict" : $"{Format} file '{SourcePath}'";

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _order.Clear();
    }
}
