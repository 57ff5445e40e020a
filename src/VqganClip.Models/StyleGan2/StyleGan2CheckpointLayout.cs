using System.Text;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// What makes a checkpoint a rosinality StyleGAN2 generator: the published <c>stylegan2-*-config-f.pt</c>
/// (<c>{"g_ema": state_dict, "latent_avg": [style_dim]}</c>, maybe with <c>"g"</c>, <c>"d"</c>, optimizer states),
/// read as <c>g_ema.&lt;name&gt;</c> + <c>latent_avg</c>, or a bare g_ema state dict (safetensors, with or without a
/// <c>latent_avg</c> tensor); and what the other StyleGAN families' files look like, to refuse them by name.
/// </summary>
public static class StyleGan2CheckpointLayout
{
    /// <summary>Prefix under which the checkpoint reader lists the tensors of a <c>{"g_ema": ...}</c> dict.</summary>
    public const string GEmaPrefix = "g_ema.";

    /// <summary>The mean latent the converter stores beside g_ema.</summary>
    public const string LatentAvgName = "latent_avg";

    /// <summary>Key of the safetensors metadata entry in which the toolkit's exports store the configuration.</summary>
    public const string ConfigMetadataKey = "stylegan2_config";

    /// <summary>Tensors every generator state dict has (bare names).</summary>
    public static readonly IReadOnlyList<string> RequiredTensors = ["input.input", "conv1.conv.weight", "to_rgb1.conv.weight", "style.1.weight"];

    /// <summary>The prefix the generator's tensors carry in <paramref name="keys"/> ("g_ema." or ""), or null when none is a StyleGAN2 generator.</summary>
    public static string? FindPrefix(IReadOnlyCollection<string> keys)
    {
        foreach (var prefix in new[] { GEmaPrefix, "" })
            if (RequiredTensors.All(t => keys.Contains(prefix + t))) return prefix;
        return null;
    }

    /// <summary>Why a set of tensor names is not a rosinality StyleGAN2 generator, naming what it looks like instead when it can tell.</summary>
    public static string DescribeNotStyleGan2(IReadOnlyList<string> keys)
    {
        string looksLike = "";
        if (keys.Any(k => k.StartsWith("visual.", StringComparison.Ordinal) || k == "logit_scale"))
            looksLike = " It looks like a CLIP model (visual.* / logit_scale tensors).";
        else if (keys.Any(k => k.StartsWith("encoder.", StringComparison.Ordinal) || k.StartsWith("decoder.", StringComparison.Ordinal) || k.StartsWith("quantize.", StringComparison.Ordinal)))
            looksLike = " It looks like a VQGAN (encoder.* / decoder.* / quantize.* tensors).";
        else if (keys.Any(k => k.StartsWith("generator.", StringComparison.Ordinal) || k == "embeddings.weight"))
            looksLike = " It looks like a BigGAN (embeddings.* / generator.* tensors).";
        else if (keys.Any(k => k.StartsWith("convs.", StringComparison.Ordinal) && k.Contains(".conv.", StringComparison.Ordinal)) && keys.Any(k => k.StartsWith("final_", StringComparison.Ordinal)))
            looksLike = " It looks like a StyleGAN2 discriminator (convs.* / final_* tensors), not the generator.";
        else if (keys.Any(k => k.StartsWith("synthesis.", StringComparison.Ordinal) || k.StartsWith("mapping.", StringComparison.Ordinal)))
            looksLike = " It looks like NVIDIA's stylegan2-ada-pytorch / stylegan3 generator (mapping.* / synthesis.* tensors), whose names and layers differ; convert it to rosinality's layout first.";
        else if (keys.Count == 0)
            looksLike = " It holds no tensors.";
        var sample = string.Join(", ", keys.Take(5));
        return $"not a rosinality StyleGAN2 generator: no {string.Join(" / ", RequiredTensors)} tensors (bare or under g_ema).{looksLike}" +
               (keys.Count > 0 ? $" First tensors: {sample}{(keys.Count > 5 ? ", ..." : "")}." : "");
    }

    /// <summary>
    /// NVIDIA's own StyleGAN files are Python pickles of whole network objects, which no safe reader can load:
    /// the TensorFlow releases (stylegan2-ffhq-config-f.pkl: dnnlib.tflib.Network objects) and the PyTorch
    /// stylegan2-ada / stylegan3 ones (torch_utils.persistence classes with G, D, G_ema). Recognised by those
    /// module names in the pickle's first bytes; null when the file is not one of them.
    /// </summary>
    public static string? DescribeNvidiaPickle(string path)
    {
        var head = new byte[1 << 16];
        int n;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n < 2 || head[0] != 0x80) return null; // pickles start with PROTO; torch zips and safetensors do not
        var text = Encoding.Latin1.GetString(head, 0, n);
        if (text.Contains("torch_utils.persistence", StringComparison.Ordinal) || text.Contains("torch_utils", StringComparison.Ordinal) && text.Contains("G_ema", StringComparison.Ordinal))
            return "an NVIDIA stylegan2-ada-pytorch / stylegan3 network pickle (torch_utils.persistence classes: G, D, G_ema). " +
                   "It stores whole Python objects whose code would have to run to load it, and its layers differ from rosinality's. " +
                   "Convert it to rosinality's layout (e.g. a {\"g_ema\": state_dict, \"latent_avg\": ...} .pt) first; nothing was executed.";
        if (text.Contains("dnnlib", StringComparison.Ordinal))
            return "an NVIDIA TensorFlow StyleGAN network pickle (dnnlib.tflib.Network objects, e.g. the official stylegan2-ffhq-config-f.pkl). " +
                   "Convert it with rosinality's convert_weight.py to the stylegan2-*-config-f.pt it writes; nothing was executed.";
        return null;
    }
}
