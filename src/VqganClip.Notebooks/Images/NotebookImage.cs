using System.Globalization;
using TorchSharp;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Images;

/// <summary>
/// An image as a notebook shows it: PNG bytes, their size, the value range of the pixels it was made from
/// (a range outside [0,1] means the display clipped), and an optional label.
/// Formats as an inline &lt;img&gt; with a PNG data URI; small images are scaled up (pixelated) for display.
/// </summary>
public sealed class NotebookImage
{
    /// <summary>Images narrower than this are shown scaled up by a whole factor.</summary>
    public const int MinDisplayWidth = 128;

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

    /// <summary>"256×256, range [0.000, 1.000]" (range omitted for PNG sources).</summary>
    public string Caption()
    {
        var size = $"{Width}×{Height}";
        if (float.IsNaN(Min)) return size;
        var range = string.Format(CultureInfo.InvariantCulture, "range [{0:0.000}, {1:0.000}]", Min, Max);
        return Clipped ? $"{size}, {range}, clipped to [0,1]" : $"{size}, {range}";
    }

    /// <summary>The &lt;img&gt; (in a figure with label and caption) without the surrounding view styles.</summary>
    public string ToHtmlFragment(int? displayWidth = null, bool caption = true)
    {
        int w = DisplayWidth(displayWidth);
        int h = (int)Math.Round((double)Height * w / Width);
        var alt = HtmlText.Encode(Label ?? $"image {Width}×{Height}");
        var sb = new System.Text.StringBuilder();
        sb.Append("<figure>");
        sb.Append($"<img class=\"vqc-img\" src=\"{DataUri}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\" data-width=\"{Width}\" data-height=\"{Height}\">");
        if (Label is not null || caption)
        {
            sb.Append("<figcaption>");
            if (Label is not null) sb.Append($"<div>{HtmlText.Encode(Label)}</div>");
            if (caption) sb.Append($"<div class=\"vqc-caption\">{HtmlText.Encode(Caption())}</div>");
            sb.Append("</figcaption>");
        }
        sb.Append("</figure>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString() => (Label is null ? "" : Label + ": ") + "image " + Caption();
}
