using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Images;

/// <summary>
/// Lays images out in a grid, optionally with a text label under each (drawn with SkiaSharp in a strip of
/// <c>labelHeight</c> pixels; blank strips when the machine has no font, see <see cref="LabelTypeface"/>).
/// Images of different sizes are centred in cells of the largest width and height. Pixels are copied with
/// tensor slicing, so the images keep full float precision; only the label strips pass through 8 bits.
/// </summary>
public static class ImageGrid
{
    /// <summary>
    /// Builds the grid as a [1,3,H,W] float32 CPU tensor.
    /// </summary>
    /// <param name="images">Each [3,H,W] or [1,3,H,W] (or one-channel), values in [0,1].</param>
    /// <param name="columns">Images per row; 0 = ceil(sqrt(n)).</param>
    /// <param name="labels">One label per image (null entries allowed), or null for no label strip.</param>
    /// <param name="padding">Pixels of background around and between cells.</param>
    /// <param name="background">Gray level of the background and label strips (1 = white).</param>
    /// <param name="labelHeight">Height of the label strip; 0 = from the font size.</param>
    /// <param name="fontSize">Label font size in pixels; 0 = from the cell width (10..20).</param>
    public static Tensor Make(IReadOnlyList<Tensor> images, int columns = 0, IReadOnlyList<string?>? labels = null,
        int padding = 2, float background = 1f, int labelHeight = 0, float fontSize = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("ImageGrid needs at least one image.", nameof(images));
        if (labels is not null && labels.Count != images.Count)
            throw new ArgumentException($"ImageGrid got {labels.Count} labels for {images.Count} images.", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfNegative(labelHeight);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var cells = new List<Tensor>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var chw = PixelConversion.AsChw(images[i], $"image #{i} of the grid").detach().to(CPU).to(float32);
            cells.Add(chw.shape[0] == 1 ? chw.expand(3, -1, -1) : chw);
        }
        int cols = columns > 0 ? Math.Min(columns, cells.Count) : (int)Math.Ceiling(Math.Sqrt(cells.Count));
        int rows = (cells.Count + cols - 1) / cols;
        int cellW = (int)cells.Max(c => c.shape[2]);
        int cellH = (int)cells.Max(c => c.shape[1]);
        if (fontSize <= 0) fontSize = Math.Clamp(cellW / 16f, 10f, 20f);
        int stripH = labels is null ? 0 : labelHeight > 0 ? labelHeight : (int)Math.Ceiling(fontSize * 1.5f);

        int gridW = cols * cellW + (cols + 1) * padding;
        int gridH = rows * (cellH + stripH) + (rows + 1) * padding;
        var grid = full(new long[] { 3, gridH, gridW }, background, float32);
        for (int i = 0; i < cells.Count; i++)
        {
            int x0 = padding + (i % cols) * (cellW + padding);
            int y0 = padding + (i / cols) * (cellH + stripH + padding);
            var cell = cells[i];
            int h = (int)cell.shape[1], w = (int)cell.shape[2];
            grid.narrow(1, y0 + (cellH - h) / 2, h).narrow(2, x0 + (cellW - w) / 2, w).copy_(cell);
            if (stripH > 0 && labels![i] is { Length: > 0 } label)
            {
                using var strip = RenderLabel(label, cellW, stripH, fontSize, background);
                if (strip is not null) grid.narrow(1, y0 + cellH, stripH).narrow(2, x0, cellW).copy_(strip[0]);
            }
        }
        return grid.unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>A label strip [1,3,height,width] with the text centred (shortened with "…" to fit), or null without a font.</summary>
    internal static Tensor? RenderLabel(string text, int width, int height, float fontSize, float background)
    {
        var typeface = LabelTypeface.Typeface;
        if (typeface is null) return null;
        byte gray = (byte)Math.Clamp((int)Math.Round(background * 255), 0, 255);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        using (var font = new SKFont(typeface, fontSize) { Subpixel = true, Edging = SKFontEdging.Antialias })
        using (var paint = new SKPaint { IsAntialias = true, Color = gray > 128 ? SKColors.Black : SKColors.White })
        {
            canvas.Clear(new SKColor(gray, gray, gray));
            string shown = Fit(text.ReplaceLineEndings(" "), font, width - 4);
            font.GetFontMetrics(out var metrics);
            float baseline = (height - (metrics.Descent - metrics.Ascent)) / 2 - metrics.Ascent;
            canvas.DrawText(shown, width / 2f, baseline, SKTextAlign.Center, font, paint);
        }
        return ImageIO.FromBitmap(bitmap);
    }

    private static string Fit(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth) return text;
        int keep = text.Length;
        while (keep > 0 && font.MeasureText(text[..keep] + "…") > maxWidth) keep--;
        return keep > 0 ? text[..keep].TrimEnd() + "…" : "";
    }
}
