using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Clipart.Judge;

/// <summary>
/// The judge's trained object-kind classifier (<see cref="ObjectClassifierNet"/> in eval mode on the CPU),
/// saved as safetensors with the kind list and its held-out accuracy in the metadata.
/// </summary>
public sealed class ObjectClassifier : IObjectKindClassifier, IDisposable
{
    /// <summary>Metadata key holding the comma-separated kind names in output order.</summary>
    public const string KindsKey = "kinds";

    /// <summary>Where <c>vqgan-clip train judge</c> saves the classifier, relative to the repository root.</summary>
    public const string DefaultRelativePath = "data/judge-classifier.safetensors";

    public ObjectClassifier(ObjectClassifierNet net, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Net = net ?? throw new ArgumentNullException(nameof(net));
        Net.eval();
        Metadata = metadata ?? new Dictionary<string, string>();
    }

    public ObjectClassifierNet Net { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Environment variable that may point at the classifier file.</summary>
    public const string PathVariable = "VQGAN_CLIP_JUDGE";

    /// <summary>
    /// The classifier file: $VQGAN_CLIP_JUDGE, else data/judge-classifier.safetensors in the current
    /// directory or any folder above it or above this assembly; null when none exists.
    /// </summary>
    public static string? FindDefault()
    {
        var fromEnv = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv)) return fromEnv;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, DefaultRelativePath);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>Loads <see cref="FindDefault"/>'s file, or throws saying how to make one.</summary>
    public static ObjectClassifier LoadDefault() =>
        Load(FindDefault() ?? throw new FileNotFoundException(
            $"No judge classifier found ({DefaultRelativePath} in the current folder or above, or ${PathVariable}); make it with `vqgan-clip train judge`."));

    public static ObjectClassifier Load(string path)
    {
        TorchRuntime.EnsureInitialized();
        if (!File.Exists(path))
            throw new FileNotFoundException($"Judge classifier not found: {path} (make it with `vqgan-clip train judge`).", path);
        using var state = SafeTensors.Read(path);
        var expected = string.Join(",", Vocabulary.Kinds.Select(k => k.Word()));
        if (state.Metadata.TryGetValue(KindsKey, out var kinds) && kinds != expected)
            throw new CheckpointFormatException(path, state.Format, $"classifier kinds '{kinds}' differ from this build's '{expected}'");
        var net = new ObjectClassifierNet();
        var parameters = net.state_dict();
        foreach (var name in parameters.Keys)
        {
            if (!state.TryGetValue(name, out var t))
                throw new CheckpointFormatException(path, state.Format, $"missing tensor '{name}'");
            if (!t.shape.SequenceEqual(parameters[name].shape))
                throw new CheckpointFormatException(path, state.Format,
                    $"tensor '{name}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", parameters[name].shape)}]");
        }
        var extra = state.Keys.Where(k => !parameters.ContainsKey(k)).ToList();
        if (extra.Count > 0)
            throw new CheckpointFormatException(path, state.Format, $"unexpected tensors: {string.Join(", ", extra)}");
        using (torch.no_grad())
            foreach (var (name, p) in parameters)
                p.copy_(state[name].to(p.dtype));
        return new ObjectClassifier(net, new Dictionary<string, string>(state.Metadata));
    }

    public void Save(string path, IDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
        if (metadata is not null)
            foreach (var (k, v) in metadata) meta[k] = v;
        meta[KindsKey] = string.Join(",", Vocabulary.Kinds.Select(k => k.Word()));
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        SafeTensors.Write(path, Net.state_dict().Select(kv => (kv.Key, kv.Value.detach().cpu().contiguous())), meta);
    }

    public float[][] Probabilities(IReadOnlyList<float[]> crops)
    {
        ArgumentNullException.ThrowIfNull(crops);
        if (crops.Count == 0) return [];
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        // A batch of exactly one takes libtorch's NNPACK path, which on CPUs NNPACK does not support
        // logs "Could not initialize NNPACK!" on every call: classify a single crop as a pair.
        var batch = crops.Count == 1 ? Stack([crops[0], crops[0]]) : Stack(crops);
        var probs = Net.forward(batch).softmax(1).data<float>().ToArray();
        int k = Vocabulary.Kinds.Length;
        return Enumerable.Range(0, crops.Count).Select(i => probs.AsSpan(i * k, k).ToArray()).ToArray();
    }

    /// <summary>Crops [2,32,32] each into one tensor [N,2,32,32].</summary>
    internal static Tensor Stack(IReadOnlyList<float[]> crops)
    {
        int size = ObjectCrop.Channels * ObjectCrop.Side * ObjectCrop.Side;
        var data = new float[crops.Count * size];
        for (int i = 0; i < crops.Count; i++)
        {
            if (crops[i].Length != size)
                throw new ArgumentException($"Crop {i} has {crops[i].Length} floats, expected {size} ([{ObjectCrop.Channels},{ObjectCrop.Side},{ObjectCrop.Side}]).", nameof(crops));
            crops[i].CopyTo(data, i * size);
        }
        return torch.tensor(data, [crops.Count, ObjectCrop.Channels, ObjectCrop.Side, ObjectCrop.Side]);
    }

    public void Dispose() => Net.Dispose();
}
