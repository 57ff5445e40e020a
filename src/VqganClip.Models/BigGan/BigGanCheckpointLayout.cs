using VqganClip.Models.IO;

namespace VqganClip.Models.BigGan;

/// <summary>What makes a checkpoint a pytorch-pretrained-BigGAN state dict, and where its config.json sits.</summary>
public static class BigGanCheckpointLayout
{
    /// <summary>Tensors every BigGAN-deep state dict has.</summary>
    public static readonly IReadOnlyList<string> RequiredTensors = ["embeddings.weight", "generator.gen_z.weight_orig"];

    /// <summary>Key of the safetensors metadata entry in which <see cref="BigGanModel.Save"/> stores config.json.</summary>
    public const string ConfigMetadataKey = "biggan_config";

    /// <summary>The model's tensors: embeddings.* and generator.*.</summary>
    public static bool IsBigGanTensorName(string name) =>
        name.StartsWith("embeddings.", StringComparison.Ordinal) || name.StartsWith("generator.", StringComparison.Ordinal);

    public static bool LooksLikeBigGan(IReadOnlyCollection<string> keys) => RequiredTensors.All(keys.Contains);

    /// <summary>Why a set of tensor names is not a BigGAN, naming what it looks like instead when it can tell.</summary>
    public static string DescribeNotBigGan(IReadOnlyList<string> keys)
    {
        string looksLike = "";
        if (keys.Any(k => k.StartsWith("visual.", StringComparison.Ordinal) || k == "logit_scale" || k == "token_embedding.weight"
                          || k.StartsWith("text_model.", StringComparison.Ordinal) || k.StartsWith("vision_model.", StringComparison.Ordinal)))
            looksLike = " It looks like a CLIP model (visual.* / text_model.* / logit_scale tensors).";
        else if (keys.Any(k => k.StartsWith("encoder.", StringComparison.Ordinal) || k.StartsWith("decoder.", StringComparison.Ordinal)
                               || k.StartsWith("first_stage_model.", StringComparison.Ordinal) || k.StartsWith("quantize.", StringComparison.Ordinal)))
            looksLike = " It looks like a VQGAN or taming transformer (encoder.* / decoder.* / quantize.* / first_stage_model.* tensors).";
        else if (keys.Contains("generator.gen_z.weight") && !keys.Contains("generator.gen_z.weight_orig"))
            looksLike = " It has generator.gen_z.weight without weight_orig: spectral norm was removed, which this loader does not read.";
        else if (keys.Count == 0)
            looksLike = " It holds no tensors.";
        var sample = string.Join(", ", keys.Take(5));
        return $"not a BigGAN-deep (pytorch-pretrained-BigGAN) state dict: no {string.Join(" / ", RequiredTensors.Where(t => !keys.Contains(t)))} tensor.{looksLike}" +
               (keys.Count > 0 ? $" First tensors: {sample}{(keys.Count > 5 ? ", ..." : "")}." : "");
    }

    /// <summary>
    /// The config.json for a weights file: <c>&lt;prefix&gt;config.json</c> for a file named <c>&lt;prefix&gt;pytorch_model.bin</c>
    /// (the published S3 names, biggan-deep-128-pytorch_model.bin / biggan-deep-128-config.json), else
    /// <c>&lt;stem&gt;.config.json</c> for <c>&lt;stem&gt;.safetensors</c> (the toolkit's own exports, e.g.
    /// data/clipart-biggan.config.json), else <c>config.json</c> in the same folder (the Hugging Face layout). Null when none exists.
    /// </summary>
    public static string? FindConfigBeside(string weightsPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(weightsPath))!;
        var name = Path.GetFileName(weightsPath);
        var stemConfig = ConfigPathBeside(weightsPath);
        if (File.Exists(stemConfig)) return stemConfig;
        foreach (var suffix in new[] { "pytorch_model.bin", "model.safetensors" })
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal))
            {
                var candidate = Path.Combine(dir, name[..^suffix.Length] + "config.json");
                if (File.Exists(candidate)) return candidate;
            }
        }
        var plain = Path.Combine(dir, "config.json");
        return File.Exists(plain) ? plain : null;
    }

    /// <summary><c>&lt;stem&gt;.config.json</c> beside <c>&lt;stem&gt;.safetensors</c> (or any weights file).</summary>
    public static string ConfigPathBeside(string weightsPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightsPath))!, Path.GetFileNameWithoutExtension(weightsPath) + ".config.json");
}
