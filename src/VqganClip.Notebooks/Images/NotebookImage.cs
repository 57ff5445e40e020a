using System.Globalization;
using TorchSharp;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Images;

/// <summary>
/// An image as a notebook shows it: PNG bytes, their size, the value range of the pixels it was made from
/// (a range outside [0,1] means the display clipped), and an optional label.
/// Formats as an inline &lt;img&gt; with a PNG data URI. Small images are shown enlarged by a whole factor (a 64-pixel
/// picture 4×), nearest neighbour, with their true size in the caption and in <c>data-width</c>/<c>data-height</c>. The
/// enlargement is in the PNG itself, not only in CSS: Jupyter strips the style of untrusted outputs and browsers then
/// smooth a small PNG into a blur.
/// </summary>
public sealed class NotebookImage
{
    /// <summary>Images narrower than this are shown scaled up by a whole factor (64 px: 4×).</summary>
    public const int MinDisplayWidth = 256;

    public NotebookImage(byte[] png, string? label = null, float min = float.NaN, float max = float.NaN)
    {
        ArgumentNullException.ThrowIfNull(png);
        (Width, Height) = RgbPixels.PngSize(png);
        Png = png;
        Label = label;
        Min = min;
        Max = max;
    }

    public byte[] Png { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>Smallest source pixel value (NaN when made from PNG bytes).</summary>
    public float Min { get; }

    /// <summary>Largest source pixel value (NaN when made from PNG bytes).</summary>
    public float Max { get; }

    public string? Label { get; }

    /// <summary>Whether the source values went outside [0,1] (so the PNG shows them clipped).</summary>
    public bool Clipped => Min < 0f || Max > 1f;

    public string DataUri => "data:image/png;base64," + Convert.ToBase64String(Png);

    /// <summary>From an image tensor [1,C,H,W] or [C,H,W] in [0,1].</summary>
    public static NotebookImage FromTensor(torch.Tensor image, string? label = null)
    {
        var (chw, c, h, w) = TensorPixels.Read(image);
        return FromPixels(chw, c, h, w, label);
    }

    /// <summary>From channel-first floats (C = 1 or 3) in [0,1].</summary>
    public static NotebookImage FromPixels(float[] chw, int channels, int height, int width, string? label = null)
    {
        var (min, max) = RgbPixels.Range(chw);
        return new NotebookImage(RgbPixels.EncodePng(chw, channels, height, width), label, min, max);
    }

    public static NotebookImage FromPng(byte[] png, string? label = null) => new(png, label);

    public static NotebookImage FromFile(string path, string? label = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No image file '{path}'.", path);
        try { return new NotebookImage(File.ReadAllBytes(path), label ?? Path.GetFileName(path)); }
        catch (FormatException e) { throw new FormatException($"'{path}' is not a PNG image: {e.Message}", e); }
    }

    public NotebookImage WithLabel(string? label) => new(Png, label, Min, Max);

    public void Save(string path) => File.WriteAllBytes(path, Png);

    /// <summary>The display width in CSS pixels: the natural width, or a whole multiple of it for small images.</summary>
    public int DisplayWidth(int? requested = null)
    {
        if (requested is > 0) return requested.Value;
        if (Width >= MinDisplayWidth) return Width;
        int factor = (MinDisplayWidth + Width - 1) / Width;
        return Width * factor;
    }

    /// <summary>The whole factor an image shown <paramref name="displayWidth"/> wide is enlarged by (1 when not enlarged).</summary>
    public int Scale(int displayWidth) => Math.Max(1, displayWidth / Width);

    /// <summary>The PNG enlarged by a whole factor, nearest neighbour (the PNG itself when the factor is 1).</summary>
    public byte[] EnlargedPng(int scale) => scale <= 1 ? Png : RgbPixels.EnlargePng(Png, scale);

    /// <summary>The true size, and the factor when shown enlarged: "64×64 px, shown 4×".</summary>
    public string SizeNote(int scale = 1) => scale > 1 ? $"{Width}×{Height} px, shown {scale}×" : $"{Width}×{Height}";

    /// <summary>"256×256, range [0.000, 1.000]" (range omitted for PNG sources; "64×64 px, shown 4×, ..." when enlarged).</summary>
    public string Caption(int scale = 1)
    {
        var size = SizeNote(scale);
        if (float.IsNaN(Min)) return size;
        var range = string.Format(CultureInfo.InvariantCulture, "range [{0:0.000}, {1:0.000}]", Min, Max);
        return Clipped ? $"{size}, {range}, clipped to [0,1]" : $"{size}, {range}";
    }

    /// <summary>The &lt;img&gt; (in a figure with label and caption) without the surrounding view styles.</summary>
    public string ToHtmlFragment(int? displayWidth = null, bool caption = true)
    {
        int w = DisplayWidth(displayWidth);
        int h = (int)Math.Round((double)Height * w / Width);
        int scale = Scale(w);
        var src = "data:image/png;base64," + Convert.ToBase64String(EnlargedPng(scale));
        var alt = HtmlText.Encode(Label ?? $"image {Width}×{Height}");
        var sb = new System.Text.StringBuilder();
        sb.Append("<figure>");
        sb.Append($"<img class=\"vqc-img\" src=\"{src}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\" data-width=\"{Width}\" data-height=\"{Height}\" data-scale=\"{scale}\" style=\"image-rendering:pixelated\">");
        if (Label is not null || caption)
        {
            sb.Append("<figcaption>");
            if (Label is not null) sb.Append($"<div>{HtmlText.Encode(Label)}</div>");
            if (caption) sb.Append($"<div class=\"vqc-caption\">{HtmlText.Encode(Caption(scale))}</div>");
            sb.Append("</figcaption>");
        }
        sb.Append("</figure>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString() => (Label is null ? "" : Label + ": ") + "image " + Caption();
}
