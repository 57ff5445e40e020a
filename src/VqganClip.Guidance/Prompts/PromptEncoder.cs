using TorchSharp;
using VqganClip.Guidance.Cutouts;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Prompts;

/// <summary>
/// Turns <see cref="PromptSpec"/>s into <see cref="Prompt"/>s with CLIP, as the original does: text through the text
/// tower; an image through the same cutouts the run uses (one embedding row per cutout) after resizing it to about the
/// picture's area; a noise prompt as a standard-normal embedding from its own seed. A text that names an existing
/// image file (.png/.jpg/.jpeg/.bmp/.gif/.webp) becomes an image prompt.
/// </summary>
public sealed class PromptEncoder
{
    private static readonly string[] ImageExtensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };
    private readonly ClipModel _clip;
    private readonly AudioClipModel? _audio;

    /// <param name="clip">The CLIP whose space the prompts are encoded in.</param>
    /// <param name="audio">The AudioCLIP audio head for audio prompts (null: audio prompts are an error).</param>
    public PromptEncoder(ClipModel clip, AudioClipModel? audio = null)
    {
        _clip = clip;
        _audio = audio;
    }

    /// <summary>True when a text prompt should be read as an image file.</summary>
    public static bool NamesImageFile(string text) =>
        ImageExtensions.Contains(Path.GetExtension(text).ToLowerInvariant()) && File.Exists(text);

    /// <summary>The spec as it will be encoded (text that names an image file becomes an image prompt).</summary>
    public static PromptSpec Resolve(PromptSpec spec) =>
        spec.Source == PromptSource.Text && NamesImageFile(spec.Text) ? spec with { Source = PromptSource.Image } : spec;

    /// <summary>Encodes one prompt. <paramref name="cutouts"/>, <paramref name="rng"/> and the picture size are needed for image prompts.</summary>
    public Prompt Encode(PromptSpec spec, ICutouts cutouts, Generator rng, int width, int height)
    {
        spec = Resolve(spec);
        if (spec.Source == PromptSource.Audio)
            return AudioPrompt.Create(_audio ?? throw new ArgumentException(
                $"The audio prompt '{spec.Text}' needs an AudioCLIP model (generate --audioclip FILE, or GuidedRun's audio argument)."), _clip, spec);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor embedding = spec.Source switch
        {
            PromptSource.Text => EncodeText(spec),
            PromptSource.Image => EncodeImage(spec, cutouts, rng, width, height),
            _ => EncodeNoise(spec),
        };
        return new Prompt(spec, embedding.to_type(ScalarType.Float32));
    }

    private Tensor EncodeText(PromptSpec spec)
    {
        Tensor tokens;
        try { tokens = ClipTokenizer.Default.Tokenize(new[] { spec.Text }, _clip.ContextLength); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"Prompt '{spec.Text}' cannot be tokenized for CLIP (context length {_clip.ContextLength}): {e.Message}", e);
        }
        return _clip.EncodeText(tokens.to(_clip.Device));
    }

    private Tensor EncodeImage(PromptSpec spec, ICutouts cutouts, Generator rng, int width, int height)
    {
        if (!File.Exists(spec.Text))
            throw new FileNotFoundException($"Image prompt file '{spec.Text}' does not exist.", spec.Text);
        var image = ImageIO.Load(spec.Text).to(_clip.Device);
        // the original's resize_image: keep the aspect ratio, at most the picture's area
        double h = image.shape[2], w = image.shape[3], ratio = w / h;
        double area = Math.Min(w * h, (double)width * height);
        long newW = Math.Max(cutouts.CutSize, (long)Math.Round(Math.Sqrt(area * ratio)));
        long newH = Math.Max(cutouts.CutSize, (long)Math.Round(Math.Sqrt(area / ratio)));
        var resized = nn.functional.interpolate(image, new[] { newH, newW }, mode: InterpolationMode.Bicubic,
            align_corners: false, antialias: true).clamp(0, 1);
        var cuts = cutouts.Cut(resized, rng);
        return _clip.EncodeImage(_clip.Normalize(cuts));
    }

    private Tensor EncodeNoise(PromptSpec spec)
    {
        // the original: torch.Generator().manual_seed(seed); torch.empty([1, dim]).normal_(generator=gen)
        using var gen = new Generator((ulong)spec.NoiseSeed);
        return randn(new long[] { 1, _clip.EmbedDim }, generator: gen).to(_clip.Device);
    }
}
