using System.Text.Json;
using System.Text.Json.Nodes;
using VqganClip.Models.IO;

namespace VqganClip.Models.Clip;

/// <summary>
/// Reads the architecture facts a CLIP state dict does not carry from a JSON config. Understood shapes:
/// <list type="bullet">
/// <item>Hugging Face <c>config.json</c>: <c>text_config</c>/<c>vision_config</c> with <c>num_attention_heads</c>,
/// <c>hidden_act</c>, <c>layer_norm_eps</c>;</item>
/// <item>open_clip model configs (<c>open_clip_config.json</c>'s <c>model_cfg</c> or a bare one): <c>text_cfg.heads</c>,
/// <c>vision_cfg.width / head_width</c>, <c>quick_gelu</c> (open_clip's default is exact GELU);</item>
/// <item>the reference constructor's arguments (<c>transformer_heads</c>, optionally under <c>config</c>,
/// as the test fixtures' manifest.json has them).</item>
/// </list>
/// </summary>
public static class ClipSideConfig
{
    /// <summary>File names tried next to a checkpoint, in order ({stem} = checkpoint name without extension).</summary>
    public static IReadOnlyList<string> CandidateNames(string checkpointPath)
    {
        var stem = Path.GetFileNameWithoutExtension(checkpointPath);
        return [$"{stem}.json", $"{stem}_config.json", "config.json", "hf_config.json", "open_clip_config.json", "manifest.json"];
    }

    /// <summary>The first readable CLIP config next to <paramref name="checkpointPath"/>, or null. Files that are
    /// not JSON or describe no CLIP are skipped (they may belong to something else in the folder).</summary>
    public static ClipConfigHints? FindNextTo(string checkpointPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(checkpointPath)) ?? ".";
        foreach (var name in CandidateNames(checkpointPath))
        {
            var candidate = Path.Combine(dir, name);
            if (!File.Exists(candidate)) continue;
            // A config that is really an HTML page or an lfs pointer is a broken download, not "no config".
            StandInFiles.ThrowIfStandIn(candidate, "a CLIP config");
            try
            {
                if (Parse(File.ReadAllText(candidate), candidate) is { } hints)
                    return hints;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                // Not ours to judge: an unrelated or broken JSON beside the checkpoint.
            }
        }
        return null;
    }

    /// <summary>Reads an explicit config file; unlike <see cref="FindNextTo"/>, a file that is not a CLIP config is an error.</summary>
    public static ClipConfigHints Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP config '{path}' not found.", path);
        StandInFiles.ThrowIfStandIn(path, "a CLIP config");
        try
        {
            return Parse(File.ReadAllText(path), path)
                ?? throw new CheckpointFormatException(path, "CLIP config",
                    "no CLIP settings found (expected Hugging Face text_config/vision_config, an open_clip model config, or transformer_heads)");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException(path, "CLIP config", $"not a readable JSON config: {e.Message}", e);
        }
    }

    /// <summary>Parses JSON text; null when it describes no CLIP.</summary>
    public static ClipConfigHints? Parse(string json, string source)
    {
        if (JsonNode.Parse(json) is not JsonObject root) return null;
        return FromHuggingFace(root, source) ?? FromOpenClip(root, source) ?? FromConstructorArguments(root, source);
    }

    private static ClipConfigHints? FromHuggingFace(JsonObject root, string source)
    {
        var text = root["text_config"] as JsonObject;
        var vision = root["vision_config"] as JsonObject;
        if (text is null && vision is null) return null;
        // Hugging Face CLIPConfig defaults: hidden_act quick_gelu, layer_norm_eps 1e-5.
        string? textAct = Str(text, "hidden_act"), visionAct = Str(vision, "hidden_act");
        return new ClipConfigHints
        {
            TextHeads = Int(text, "num_attention_heads"),
            VisionHeads = Int(vision, "num_attention_heads"),
            TextActivation = text is null ? null : Activation(textAct ?? "quick_gelu", source),
            VisionActivation = vision is null ? null : Activation(visionAct ?? "quick_gelu", source),
            ActivationSource = HuggingFaceActivationSource(Path.GetFileName(source), text, vision, textAct, visionAct),
            TextLayerNormEps = Double(text, "layer_norm_eps"),
            VisionLayerNormEps = Double(vision, "layer_norm_eps"),
            Source = source,
        };
    }

    // "config.json hidden_act=gelu"; both towers named when they differ; the default named when neither says.
    private static string HuggingFaceActivationSource(string file, JsonObject? text, JsonObject? vision, string? textAct, string? visionAct)
    {
        if (text is not null && vision is not null && (textAct ?? "quick_gelu") != (visionAct ?? "quick_gelu"))
            return $"{file} vision hidden_act={visionAct ?? "quick_gelu (default)"}, text hidden_act={textAct ?? "quick_gelu (default)"}";
        return (textAct ?? visionAct) is { } act ? $"{file} hidden_act={act}" : $"{file} has no hidden_act: Hugging Face CLIPConfig default quick_gelu";
    }

    private static ClipConfigHints? FromOpenClip(JsonObject root, string source)
    {
        var cfg = root["model_cfg"] as JsonObject ?? root;
        var text = cfg["text_cfg"] as JsonObject;
        var vision = cfg["vision_cfg"] as JsonObject;
        if (text is null && vision is null) return null;

        int? visionHeads = null;
        if (Int(vision, "width") is int width)
        {
            int headWidth = Int(vision, "head_width") ?? 64;
            // open_clip: ViT heads = width // head_width; ModifiedResNet heads = width * 32 // head_width.
            bool resnet = vision!["layers"] is JsonArray;
            visionHeads = (resnet ? width * 32 : width) / headWidth;
        }
        // open_clip's default activation is nn.GELU unless the config asks for QuickGELU.
        bool? quickGelu = cfg["quick_gelu"]?.GetValue<bool>();
        var activation = quickGelu ?? false ? ClipActivation.QuickGelu : ClipActivation.Gelu;
        var file = Path.GetFileName(source);
        return new ClipConfigHints
        {
            ActivationSource = quickGelu is { } q ? $"{file} quick_gelu={(q ? "true" : "false")}" : $"{file} has no quick_gelu: open_clip default false",
            TextHeads = Int(text, "heads") ?? (text is null ? null : 8),
            VisionHeads = visionHeads,
            TextActivation = activation,
            VisionActivation = activation,
            Source = source,
        };
    }

    private static ClipConfigHints? FromConstructorArguments(JsonObject root, string source)
    {
        var cfg = root["config"] as JsonObject ?? root;
        var textHeads = Int(cfg, "transformer_heads");
        var visionHeads = Int(cfg, "vision_heads");
        if (textHeads is null && visionHeads is null) return null;
        return new ClipConfigHints { TextHeads = textHeads, VisionHeads = visionHeads, Source = source };
    }

    private static ClipActivation Activation(string name, string source) => name switch
    {
        "quick_gelu" => ClipActivation.QuickGelu,
        "gelu" => ClipActivation.Gelu,
        _ => throw new CheckpointFormatException(source, "CLIP config", $"unsupported hidden_act '{name}' (supported: quick_gelu, gelu)"),
    };

    private static int? Int(JsonObject? o, string key) => o?[key] is JsonValue v ? v.GetValue<int>() : null;
    private static double? Double(JsonObject? o, string key) => o?[key] is JsonValue v ? v.GetValue<double>() : null;
    private static string? Str(JsonObject? o, string key) => o?[key] is JsonValue v ? v.GetValue<string>() : null;
}
