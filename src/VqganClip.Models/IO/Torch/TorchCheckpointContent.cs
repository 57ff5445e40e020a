using System.Globalization;
using System.Numerics;
using VqganClip.Models.IO.Pickle;

namespace VqganClip.Models.IO.Torch;

/// <summary>
/// The tensors (still unread: <see cref="TensorRef"/>s) and metadata found in an unpickled checkpoint,
/// whichever shape it has: a bare state dict, a Lightning-style dict with a <c>state_dict</c> entry,
/// or a TorchScript module tree whose tensor attributes are gathered under dotted names.
/// </summary>
internal sealed class TorchCheckpointContent
{
    private const int MaxModuleDepth = 200;

    /// <summary>The name given to the one tensor of a file that torch.save'd a bare tensor.</summary>
    public const string BareTensorName = "tensor";

    public List<(string Name, TensorRef Tensor)> Tensors { get; } = new();

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>True when the pickle was a TorchScript module tree.</summary>
    public bool IsModuleTree { get; private set; }

    /// <summary>Finds the state dict in an unpickled root object; throws <see cref="PickleException"/> when there is none.</summary>
    public static TorchCheckpointContent From(object? root)
    {
        var content = new TorchCheckpointContent();
        switch (root)
        {
            case PyObject obj when obj.Type.Module.StartsWith("__torch__", StringComparison.Ordinal):
                content.IsModuleTree = true;
                content.Metadata["torchscript.class"] = obj.Type.FullName;
                content.CollectModule(obj, "", new HashSet<PyObject>(ReferenceEqualityComparer.Instance), 0);
                if (content.Tensors.Count == 0) throw new PickleException($"TorchScript module {obj.Type.FullName} holds no tensors");
                break;
            case PyDict dict when dict.TryGet("state_dict", out var inner) && inner is PyDict stateDict:
                // Lightning (and many training scripts): {"epoch", "global_step", "state_dict", "optimizer_states", ...}.
                foreach (var kv in dict.Items)
                    if (kv.Key is string key && Scalar(kv.Value) is { } text) content.Metadata[key] = text;
                content.CollectStateDict(stateDict, "state_dict");
                break;
            case PyDict dict when dict.TryGet("g_ema", out var inner) && inner is PyDict gEma:
                // rosinality/stylegan2-pytorch (convert_weight.py, train.py): {"g_ema": state_dict, "latent_avg": tensor}
                // and maybe "g", "d", optimizer states, "args". Only g_ema's tensors (as "g_ema.<name>") and top-level
                // tensors are listed; the other entries are never indexed, so their storages are never read.
                foreach (var kv in dict.Items)
                {
                    if (kv.Key is not string key) continue;
                    if (kv.Value is TensorRef tensor) content.Tensors.Add((key, tensor));
                    else if (Scalar(kv.Value) is { } text) content.Metadata[key] = text;
                }
                var skipped = dict.Items.Select(kv => kv.Key).OfType<string>()
                    .Where(k => k != "g_ema" && dict.TryGet(k, out var v) && v is not TensorRef && Scalar(v) is null).ToList();
                if (skipped.Count > 0) content.Metadata["checkpoint.skipped"] = string.Join(",", skipped);
                content.CollectStateDict(gEma, "g_ema", "g_ema.");
                break;
            case PyDict dict when IsDictOfStateDicts(dict):
                // torch.save({'G': netG.state_dict(), 'D': netD.state_dict()}): several nets, read as "G.<name>", "D.<name>".
                foreach (var (key, value) in dict.Items)
                    if (key is string net && value is PyDict inner && inner.Items.Any(kv => kv.Value is TensorRef))
                        content.CollectStateDict(inner, net, net + ".");
                break;
            case PyDict dict:
                content.CollectStateDict(dict, null);
                break;
            case TensorRef tensor:
                // torch.save(tensor): one tensor, no name (StyleCLIP's latent files, e.g. an inversion's W+ code).
                content.Tensors.Add((BareTensorName, tensor));
                content.Metadata["checkpoint.top_level"] = "tensor";
                break;
            case PyObject obj:
                throw new PickleException($"file holds a pickled {obj.Type.FullName} object, not a state dict (nothing was executed; save its state_dict() instead)");
            default:
                throw new PickleException($"top-level object is a {PyFormat.TypeName(root)}, not a state dict");
        }
        return content;
    }

    private static bool IsDictOfStateDicts(PyDict dict) =>
        !dict.Items.Any(kv => kv.Value is TensorRef)
        && dict.Items.Any(kv => kv.Key is string && kv.Value is PyDict inner && inner.Items.Any(e => e.Value is TensorRef));

    private void CollectStateDict(PyDict dict, string? where, string namePrefix = "")
    {
        var place = where is null ? "state dict" : $"'{where}'";
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name)
                throw new PickleException($"{place} has a non-string key {PyFormat.Describe(key)}");
            switch (value)
            {
                case TensorRef tensor:
                    Tensors.Add((namePrefix + name, tensor));
                    break;
                case PyObject obj:
                    throw new PickleException($"{place} entry '{name}' is not a tensor but an object built by {obj.Type.FullName} (not executed)");
                case PyGlobal g:
                    throw new PickleException($"{place} entry '{name}' is not a tensor but a reference to {g.FullName}");
                default:
                    // None, numbers, nested containers (e.g. _extra_state): not weights, skipped.
                    break;
            }
        }
        if (Tensors.Count == 0)
            throw new PickleException($"{place} holds no tensors" + (where is null ? $" (top-level keys: {string.Join(", ", dict.Items.Take(8).Select(kv => PyFormat.Describe(kv.Key)))})" : ""));
    }

    private void CollectModule(PyObject module, string prefix, HashSet<PyObject> visiting, int depth)
    {
        if (depth > MaxModuleDepth) throw new PickleException($"TorchScript module tree deeper than {MaxModuleDepth} levels at '{prefix}'");
        if (!visiting.Add(module)) return; // a module reachable twice (or a cycle): its tensors are already named
        var attributes = module.Attributes;
        if (attributes is null) return; // custom __setstate__ state: no attribute names to give
        foreach (var (key, value) in attributes.Items)
        {
            if (key is not string name) continue;
            switch (value)
            {
                case TensorRef tensor:
                    Tensors.Add((prefix + name, tensor));
                    break;
                case PyObject child when child.Type.Module.StartsWith("__torch__", StringComparison.Ordinal):
                    CollectModule(child, prefix + name + ".", visiting, depth + 1);
                    break;
                default:
                    break; // training flags, hooks, ints: not parameters or buffers
            }
        }
    }

    private static string? Scalar(object? value) => value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        BigInteger b => b.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        _ => null,
    };
}
