namespace VqganClip.Guidance;

/// <summary>
/// Finds the models shipped with the toolkit in a <c>data/</c> folder: <c>clipart-clip.safetensors</c> (CLIP) and
/// <c>clipart-vqgan.safetensors</c> with <c>clipart-vqgan.yaml</c> (VQGAN), <c>clipart-transformer.safetensors</c> with
/// <c>clipart-transformer.yaml</c> (the transformer; its YAML names its first stage, the shipped <c>clipart-vqgan.safetensors</c> beside it), <c>clipart-biggan.safetensors</c>, <c>clipart-pix2pix.safetensors</c> and <c>clipart-stylegan.safetensors</c>. Looks next to the executable, then in
/// each parent folder of it and of the current directory, for <c>data/</c> (or the files themselves).
/// </summary>
public static class ShippedModels
{
    public const string ClipFileName = "clipart-clip.safetensors";
    public const string VqganFileName = "clipart-vqgan.safetensors";
    public const string VqganConfigFileName = "clipart-vqgan.yaml";
    public const string TransformerFileName = "clipart-transformer.safetensors";
    public const string TransformerConfigFileName = "clipart-transformer.yaml";
    public const string BigGanFileName = "clipart-biggan.safetensors";
    public const string Pix2PixFileName = "clipart-pix2pix.safetensors";
    public const string StyleGanFileName = "clipart-stylegan.safetensors";

    /// <summary>Folders searched, in order (existing or not).</summary>
    public static IEnumerable<string> SearchFolders()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { dir.FullName, Path.Combine(dir.FullName, "data") })
                    if (seen.Add(candidate)) yield return candidate;
            }
        }
    }

    /// <summary>The shipped CLIP checkpoint, or null when none is found.</summary>
    public static string? FindClip() => Find(ClipFileName);

    /// <summary>The shipped VQGAN checkpoint and its config (config null when the yaml is absent), or null.</summary>
    public static (string Checkpoint, string? Config)? FindVqgan()
    {
        var ckpt = Find(VqganFileName);
        if (ckpt is null) return null;
        var yaml = Path.Combine(Path.GetDirectoryName(ckpt)!, VqganConfigFileName);
        return (ckpt, File.Exists(yaml) ? yaml : null);
    }

    /// <summary>The shipped transformer and its config (config null when the yaml is absent), or null.</summary>
    public static (string Checkpoint, string? Config)? FindTransformer()
    {
        var ckpt = Find(TransformerFileName);
        if (ckpt is null) return null;
        var yaml = Path.Combine(Path.GetDirectoryName(ckpt)!, TransformerConfigFileName);
        return (ckpt, File.Exists(yaml) ? yaml : null);
    }

    /// <summary>The shipped transformer and its config, or an error that says what to pass instead.</summary>
    public static (string Checkpoint, string? Config) RequireTransformer() => FindTransformer() ?? throw new FileNotFoundException(
        $"No transformer given and no shipped {TransformerFileName} found in a data/ folder next to the program or above it " +
        $"(searched from {AppContext.BaseDirectory} and {Directory.GetCurrentDirectory()}). Give a taming Net2NetTransformer checkpoint " +
        "(a last.ckpt or safetensors with first_stage_model.* and transformer.* tensors, with its *-project.yaml), or choose another generator.",
        TransformerFileName);

    /// <summary>The shipped clipart BigGAN (its config is stored in the file), or null.</summary>
    public static string? FindBigGan() => Find(BigGanFileName);

    /// <summary>The shipped BigGAN, or an error that says what to pass instead.</summary>
    public static string RequireBigGan() => FindBigGan() ?? throw new FileNotFoundException(
        $"No BigGAN given and no shipped {BigGanFileName} found in a data/ folder next to the program or above it " +
        $"(searched from {AppContext.BaseDirectory} and {Directory.GetCurrentDirectory()}). Give a BigGAN-deep file or folder " +
        "(pytorch-pretrained-BigGAN's pytorch_model.bin with its config.json, or a .safetensors), or choose another generator.",
        BigGanFileName);

    /// <summary>The shipped clipart pix2pix generator (outline → coloured scene), or null.</summary>
    public static string? FindPix2Pix() => Find(Pix2PixFileName);

    /// <summary>The shipped pix2pix generator, or an error that says what to pass instead.</summary>
    public static string RequirePix2Pix() => FindPix2Pix() ?? throw new FileNotFoundException(
        $"No pix2pix generator given and no shipped {Pix2PixFileName} found in a data/ folder next to the program or above it " +
        $"(searched from {AppContext.BaseDirectory} and {Directory.GetCurrentDirectory()}). Give one with --model " +
        "(pytorch-CycleGAN-and-pix2pix's latest_net_G.pth of a unet_128/unet_256 model, or a .safetensors), or train one with `vqgan-clip train pix2pix`.",
        Pix2PixFileName);

    /// <summary>The shipped clipart StyleGAN2 (g_ema + latent_avg; its config is stored in the file), or null.</summary>
    public static string? FindStyleGan() => Find(StyleGanFileName);

    /// <summary>The shipped StyleGAN2, or an error that says what to pass instead.</summary>
    public static string RequireStyleGan() => FindStyleGan() ?? throw new FileNotFoundException(
        $"No StyleGAN2 given and no shipped {StyleGanFileName} found in a data/ folder next to the program or above it " +
        $"(searched from {AppContext.BaseDirectory} and {Directory.GetCurrentDirectory()}). Give one with --stylegan " +
        "(rosinality's stylegan2-*-config-f.pt, converted by his convert_weight.py, or a .safetensors of its g_ema), or train one with `vqgan-clip train stylegan`.",
        StyleGanFileName);

    /// <summary>The shipped CLIP checkpoint, or an error that says what to pass instead.</summary>
    public static string RequireClip() => FindClip() ?? throw new FileNotFoundException(
        $"No CLIP model given and no shipped {ClipFileName} found in a data/ folder next to the program or above it " +
        $"(searched from {AppContext.BaseDirectory} and {Directory.GetCurrentDirectory()}). Give a CLIP file " +
        "(an OpenAI CLIP checkpoint: .pt, TorchScript .pt or .safetensors).", ClipFileName);

    /// <summary>The shipped VQGAN checkpoint and config, or an error that says what to pass instead.</summary>
    public static (string Checkpoint, string? Config) RequireVqgan() => FindVqgan() ?? throw new FileNotFoundException(
        $"No VQGAN model given and no shipped {VqganFileName} found in a data/ folder next to the program or above it. " +
        "Give a VQGAN checkpoint (taming-transformers; with its YAML config), or choose the pixels, fourier or strokes generator, which need no VQGAN.",
        VqganFileName);

    private static string? Find(string fileName) =>
        SearchFolders().Select(d => Path.Combine(d, fileName)).FirstOrDefault(File.Exists);
}
