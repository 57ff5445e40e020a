using VqganClip.Models.IO;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// What a pix2pix generator state dict looks like, and the configuration its tensors imply. upstream saves
/// <c>latest_net_G.pth</c> = <c>netG.state_dict()</c> (keys <c>model.model.0.weight</c>, ...); a checkpoint saved from
/// a DataParallel net has every key under <c>module.</c> (upstream strips it; so does this), and a file holding several
/// nets (<c>{'G': ..., 'D': ...}</c>) is read under a prefix (<c>G.</c>).
/// </summary>
public static class Pix2PixCheckpointLayout
{
    public const string Format = "pix2pix U-Net generator";

    /// <summary>safetensors metadata key of the configuration JSON <see cref="UnetGenerator.Save"/> writes.</summary>
    public const string ConfigMetadataKey = "pix2pix_unet_config";

    /// <summary>safetensors metadata key of the image side the generator was trained at.</summary>
    public const string ImageSizeMetadataKey = "pix2pix_image_size";

    /// <summary>The outermost down-convolution: every U-Net generator has it.</summary>
    public const string FirstConv = "model.model.0.weight";

    /// <summary>The outermost up-convolution (ConvTranspose2d weight [2·ngf, output_nc, 4, 4]).</summary>
    public const string LastConv = "model.model.3.weight";

    /// <summary>
    /// The prefix under which <paramref name="names"/> hold a U-Net generator: "" (a plain latest_net_G.pth),
    /// "module." (DataParallel), or "&lt;X&gt;." where "&lt;X&gt;.model.model.0.weight" exists (G., netG.); null when none.
    /// </summary>
    public static string? FindPrefix(IEnumerable<string> names)
    {
        var candidates = names.Where(n => n.EndsWith(FirstConv, StringComparison.Ordinal))
            .Select(n => n[..^FirstConv.Length])
            .Where(p => p.Length == 0 || p.EndsWith('.'))
            .OrderBy(p => p.Length)
            .ToList();
        return candidates.Count == 0 ? null : candidates[0];
    }

    /// <summary>Why a file with these tensor names is not a U-Net generator, naming what is missing.</summary>
    public static string DescribeNotGenerator(IReadOnlyCollection<string> names)
    {
        var shown = string.Join(", ", names.Take(5)) + (names.Count > 5 ? ", ..." : "");
        if (names.Count == 0) return "it holds no tensors, so it is not a pix2pix generator state dict.";
        if (names.Any(n => n.StartsWith("model.0.", StringComparison.Ordinal) || n.Contains(".model.0.", StringComparison.Ordinal)) && !names.Any(n => n.Contains("model.model.", StringComparison.Ordinal)))
            return $"it has no '{FirstConv}' (the U-Net's outermost convolution); its tensors ({shown}) look like a PatchGAN discriminator (latest_net_D.pth) or a ResNet generator (netG resnet_9blocks), which this loader does not build. Pass latest_net_G.pth of a unet_128/unet_256 model.";
        return $"it has no '{FirstConv}' (the U-Net's outermost convolution), so it is not a pix2pix U-Net generator state dict (latest_net_G.pth). Its first tensors: {shown}.";
    }

    /// <summary>
    /// The configuration the tensors (names relative to the generator, shapes) imply: input_nc and ngf from the first
    /// convolution, output_nc from the last, num_downs from the nesting depth of <c>model.model.1(.model.3)*</c>,
    /// batch norm when the norms have weights (instance norm has none). Dropout is not in the weights:
    /// <paramref name="useDropout"/> (upstream's pix2pix default: on).
    /// </summary>
    public static UnetConfig InferConfig(IReadOnlyDictionary<string, long[]> shapes, string path, bool useDropout = true)
    {
        if (!shapes.TryGetValue(FirstConv, out var first))
            throw new CheckpointFormatException(path, Format, DescribeNotGenerator(shapes.Keys.ToList()));
        if (first.Length != 4 || first[2] != 4 || first[3] != 4)
            throw new CheckpointFormatException(path, Format, $"'{FirstConv}' is [{string.Join(", ", first)}], not a 4×4 convolution weight [ngf, input_nc, 4, 4].");
        if (!shapes.TryGetValue(LastConv, out var last) || last.Length != 4)
            throw new CheckpointFormatException(path, Format, $"'{LastConv}' (the outermost up-convolution, [2·ngf, output_nc, 4, 4]) is missing or not 4-D.");

        // Every non-innermost block keeps its inner block at model.3 and that block's down-convolution at model.1.
        string block = "model.model.1";
        if (!shapes.ContainsKey(block + ".model.1.weight"))
            throw new CheckpointFormatException(path, Format, $"'{block}.model.1.weight' (the second down-convolution) is missing: not a U-Net generator.");
        int depth = 1;
        while (shapes.ContainsKey(block + ".model.3.model.1.weight"))
        {
            block += ".model.3";
            depth++;
        }
        int numDowns = depth + 1;
        var norm = shapes.TryGetValue("model.model.1.model.2.weight", out var normWeight) && normWeight.Length == 1
            ? Pix2PixNorm.Batch : Pix2PixNorm.Instance;
        var config = new UnetConfig((int)first[1], (int)last[1], numDowns, (int)first[0], norm, useDropout);
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException(path, Format, $"the tensors imply an unsupported U-Net: {e.Message}", e);
        }
        return config;
    }
}
