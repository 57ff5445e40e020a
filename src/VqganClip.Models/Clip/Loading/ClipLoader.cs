using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// Loads a CLIP from any of the forms it is distributed in, detected from the content:
/// OpenAI's TorchScript archives (clip.load's <c>ViT-B-32.pt</c>), plain state dicts (.pt / .bin / .safetensors)
/// with OpenAI / open_clip names (optionally under <c>module.</c> or a training checkpoint's <c>state_dict</c>),
/// and Hugging Face CLIPModel weights (<c>model.safetensors</c> / <c>pytorch_model.bin</c>, with its
/// <c>config.json</c> beside it for head counts and activation). The activation: <see cref="ClipLoadOptions.Activation"/>,
/// else a config (explicit or beside the file), else what the kind of file implies (<see cref="ClipActivationDefault"/>);
/// <see cref="ClipConfig.ActivationSource"/> says which. The architecture is inferred like the
/// reference's build_model; weights are checked name by name and shape by shape (fp16 weights become fp32).
/// </summary>
public static class ClipLoader
{
    public static ClipModel Load(string path, Device? device = null, ClipLoadOptions? options = null)
    {
        TorchRuntime.EnsureInitialized();
        options ??= new ClipLoadOptions();
        if (!File.Exists(path))
            throw new FileNotFoundException($"CLIP checkpoint '{path}' not found.", path);

        using var raw = Checkpoint.Load(path);
        return FromStateDict(raw, path, device, options);
    }

    /// <summary>
    /// A CLIP from an already read state dict <paramref name="raw"/> (whose tensors are taken; the caller still
    /// disposes it): the same inference and checks as <see cref="Load"/>. Used for files that hold CLIP beside
    /// other weights (AudioCLIP's checkpoints, after their <c>audio.*</c> entries are taken out).
    /// </summary>
    public static ClipModel FromStateDict(StateDict raw, string path, Device? device = null, ClipLoadOptions? options = null)
    {
        TorchRuntime.EnsureInitialized();
        options ??= new ClipLoadOptions();
        var rawKeys = raw.Keys.ToList(); // before ToOpenAILayout takes the tensors out of raw
        using var weights = ClipStateDict.ToOpenAILayout(raw, out var layout);
        string format = layout == ClipLayout.HuggingFace ? $"CLIP (Hugging Face, {raw.Format})" : $"CLIP ({raw.Format})";

        var hints = ClipHintSources.Resolve(path, raw.Format, raw.Metadata, rawKeys, layout, options);
        var config = ClipConfig.InferFromShapes(ClipStateDict.Shapes(weights), hints, path, format);

        var model = new ClipModel(config);
        try
        {
            CopyWeights(model, weights, path, format);
            if (device is not null && device.type != DeviceType.CPU)
                model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies <paramref name="weights"/> into <paramref name="model"/>'s parameters and buffers. Every model
    /// tensor must be present with the same shape, and nothing else may be: the error lists what is missing,
    /// unexpected or mis-shaped (expected vs actual).
    /// </summary>
    public static void CopyWeights(ClipModel model, StateDict weights, string path, string format = "CLIP")
    {
        var targets = model.state_dict();
        var problems = new List<string>();

        var missing = targets.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            problems.Add($"missing {missing.Count} tensor(s): {List(missing.Select(k => $"{k} {ClipConfig.Fmt(targets[k].shape)}"))}");

        var unexpected = weights.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        if (unexpected.Count > 0)
            problems.Add($"unexpected {unexpected.Count} tensor(s): {List(unexpected.Select(k => $"{k} {ClipConfig.Fmt(weights[k].shape)}"))}");

        var misshaped = targets
            .Where(kv => weights.ContainsKey(kv.Key) && !weights[kv.Key].shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: expected {ClipConfig.Fmt(kv.Value.shape)}, got {ClipConfig.Fmt(weights[kv.Key].shape)}")
            .ToList();
        if (misshaped.Count > 0)
            problems.Add($"{misshaped.Count} tensor(s) with the wrong shape: {List(misshaped)}");

        var mistyped = targets
            .Where(kv => weights.ContainsKey(kv.Key) && kv.Value.is_floating_point() && !weights[kv.Key].is_floating_point())
            .Select(kv => $"{kv.Key}: expected floating point, got {weights[kv.Key].dtype}")
            .ToList();
        if (mistyped.Count > 0)
            problems.Add($"{mistyped.Count} tensor(s) with the wrong type: {List(mistyped)}");

        if (problems.Count > 0)
            throw new CheckpointFormatException(path, format,
                $"does not match the inferred architecture ({model.Config.Describe()}): {string.Join("; ", problems)}");

        using var _ = torch.no_grad();
        foreach (var (name, target) in targets)
            target.copy_(weights[name]); // converts fp16 -> fp32 and moves across devices
    }

    private static string List(IEnumerable<string> items, int max = 12)
    {
        var all = items.ToList();
        return string.Join(", ", all.Take(max)) + (all.Count > max ? $", ... ({all.Count - max} more)" : "");
    }
}
