using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.AudioClip;

/// <summary>What an AudioCLIP file cannot say about itself (see <see cref="AudioHeadConfigInference"/>).</summary>
public sealed record AudioClipLoadOptions
{
    /// <summary>The framing hop (not stored in the file); default: a JSON beside the file (hop_length), the file's metadata, else AudioCLIP's 561.</summary>
    public int? HopLength { get; init; }
    /// <summary>upstream <c>normalized</c>; default: the file's metadata, else true.</summary>
    public bool? Normalized { get; init; }
    /// <summary>Also build the CLIP towers found in the file (default true).</summary>
    public bool LoadClip { get; init; } = true;
    /// <summary>Options for the CLIP towers (head counts a tiny model's shapes cannot tell, a side config).</summary>
    public ClipLoadOptions? Clip { get; init; }
}

/// <summary>
/// Loads AudioCLIP's published files (<c>AudioCLIP-Full-Training.pt</c>, <c>AudioCLIP-Partial-Training.pt</c>: a plain
/// <c>torch.save(state_dict)</c> with <c>audio.*</c>, <c>logit_scale_ai</c>, <c>logit_scale_at</c> and the CLIP RN50
/// towers) or the same state dict as safetensors. The audio head is built from the <c>audio.*</c> shapes; the rest goes
/// to <see cref="ClipLoader.FromStateDict"/>, so one file gives both towers. Every audio tensor must be present with
/// its shape and nothing else under <c>audio.</c>: errors name the tensors.
/// </summary>
public static class AudioClipLoader
{
    public const string Format = "AudioCLIP";

    private static bool IsAudioKey(string key) =>
        key.StartsWith(AudioHeadConfigInference.Prefix, StringComparison.Ordinal) || key is "logit_scale_ai" or "logit_scale_at";

    public static AudioClipModel Load(string path, AudioClipLoadOptions? options = null)
    {
        TorchRuntime.EnsureInitialized();
        options ??= new AudioClipLoadOptions();
        if (!File.Exists(path))
            throw new FileNotFoundException($"AudioCLIP checkpoint '{path}' not found.", path);

        using var raw = Checkpoint.Load(path);
        string format = $"{Format} ({raw.Format})";
        var audioKeys = raw.Keys.Where(IsAudioKey).ToList();
        if (!audioKeys.Any(k => k.StartsWith(AudioHeadConfigInference.Prefix, StringComparison.Ordinal)))
            throw new CheckpointFormatException(path, format,
                $"no audio.* tensors: not an AudioCLIP checkpoint (first keys: {string.Join(", ", raw.Keys.Take(5))}{(raw.Count > 5 ? ", ..." : "")})");

        AudioHeadConfig config;
        try
        {
            var shapes = audioKeys.ToDictionary(k => k, k => raw[k].shape, StringComparer.Ordinal);
            config = AudioHeadConfigInference.Infer(shapes, raw.Metadata, options.HopLength ?? SideHopLength(path), options.Normalized);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException)
        {
            throw new CheckpointFormatException(path, format, e.Message, e);
        }

        var model = new AudioClipModel(config) { SourcePath = path, PairedClipPath = PairedClip(path, raw.Metadata) };
        try
        {
            CopyWeights(model, raw, audioKeys, path, format);
            if (options.LoadClip && raw.Keys.Any(k => !IsAudioKey(k)))
            {
                using var clipPart = new StateDict(raw.Format, path);
                foreach (var (k, v) in raw.Metadata) clipPart.Metadata[k] = v;
                foreach (var k in raw.Keys.Where(k => !IsAudioKey(k)).ToList())
                    clipPart.Add(k, raw.Detach(k));
                model.Clip = ClipLoader.FromStateDict(clipPart, path, options: ClipOptions(options.Clip));
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The CLIP options for an AudioCLIP file's towers: its model/clip/model.py is OpenAI's, with QuickGELU, which a
    /// plain state dict cannot say (the toolkit's default for one is open_clip's exact GELU). The caller's
    /// activation or activation hints win.
    /// </summary>
    private static ClipLoadOptions ClipOptions(ClipLoadOptions? given)
    {
        given ??= new ClipLoadOptions();
        if (given.Activation is not null || given.Hints?.VisionActivation is not null || given.Hints?.TextActivation is not null)
            return given;
        return given with
        {
            Hints = (given.Hints ?? new ClipConfigHints()) with
            {
                VisionActivation = ClipActivation.QuickGelu,
                TextActivation = ClipActivation.QuickGelu,
                ActivationSource = "AudioCLIP checkpoint (its model/clip/model.py is OpenAI's CLIP, with QuickGELU)",
            },
        };
    }

    /// <summary>The metadata's <c>clip</c> (the CLIP a towerless head was trained against) beside <paramref name="path"/>, if that file exists.</summary>
    private static string? PairedClip(string path, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || !metadata.TryGetValue("clip", out var name) || string.IsNullOrWhiteSpace(name)) return null;
        var candidate = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", Path.GetFileName(name));
        return File.Exists(candidate) ? candidate : null;
    }

    /// <summary>
    /// The hop length from a JSON beside the checkpoint (<c>&lt;stem&gt;.json</c>, then a fixture's <c>manifest.json</c>):
    /// <c>hop_length</c> at its top level or under <c>audio_config</c>; null when there is none.
    /// </summary>
    private static int? SideHopLength(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        foreach (var name in new[] { Path.GetFileNameWithoutExtension(path) + ".json", "manifest.json" })
        {
            var candidate = Path.Combine(dir, name);
            if (!File.Exists(candidate)) continue;
            try
            {
                var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(candidate));
                var hop = root?["hop_length"] ?? root?["audio_config"]?["hop_length"];
                if (hop is not null) return hop.GetValue<int>();
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
            {
                // not ours: an unrelated JSON beside the checkpoint
            }
        }
        return null;
    }

    /// <summary>Copies the file's audio entries into the model; missing, unexpected or mis-shaped tensors are named.</summary>
    private static void CopyWeights(AudioClipModel model, StateDict raw, IReadOnlyList<string> audioKeys, string path, string format)
    {
        var targets = model.state_dict();
        var problems = new List<string>();
        var missing = targets.Keys.Where(k => !raw.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add($"missing {string.Join(", ", missing.Take(12))}{(missing.Count > 12 ? $" ... ({missing.Count} in all)" : "")}");
        var unexpected = audioKeys.Where(k => !targets.ContainsKey(k)).ToList();
        if (unexpected.Count > 0) problems.Add($"unexpected {string.Join(", ", unexpected.Take(12))}{(unexpected.Count > 12 ? $" ... ({unexpected.Count} in all)" : "")}");
        var misshaped = targets.Where(kv => raw.ContainsKey(kv.Key) && !raw[kv.Key].shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: expected [{string.Join(",", kv.Value.shape)}], got [{string.Join(",", raw[kv.Key].shape)}]").ToList();
        if (misshaped.Count > 0) problems.Add("wrong shape " + string.Join("; ", misshaped.Take(12)));
        if (problems.Count > 0)
            throw new CheckpointFormatException(path, format, $"audio head ({model.Config.Describe()}) does not match: {string.Join("; ", problems)}");

        using var _ = no_grad();
        foreach (var (name, target) in targets)
            target.copy_(raw[name]);
    }

    /// <summary>Writes the audio head and temperatures (and the CLIP towers when <see cref="AudioClipModel.Clip"/> is set) as safetensors, with the hop length and normalized flag as metadata (and <paramref name="extraMetadata"/>).</summary>
    public static void Save(AudioClipModel model, string path, bool withClip = true, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var tensors = model.state_dict().Select(kv => (kv.Key, kv.Value)).ToList();
        if (withClip && model.Clip is not null)
            tensors.AddRange(model.Clip.state_dict().Select(kv => (kv.Key, kv.Value)));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["hop_length"] = model.Config.HopLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["normalized"] = model.Config.Normalized ? "true" : "false",
        };
        foreach (var (k, v) in extraMetadata ?? new Dictionary<string, string>()) metadata[k] = v;
        SafeTensors.Write(path, tensors, metadata);
    }
}
