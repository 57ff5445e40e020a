using System.Runtime.InteropServices;
using SkiaSharp;

namespace VqganClip.Notebooks.Images;

/// <summary>
/// Channel-first float pixels (C = 1 or 3, values nominally in [0,1]) and their PNG encoding through SkiaSharp.
/// The notebook layer keeps this torch-free step of its own so that images, grids and reports can be built and
/// tested from plain arrays; tensors reach it through <see cref="TensorPixels"/>.
/// </summary>
public static class RgbPixels
{
    /// <summary>Encodes CHW floats as an 8-bit RGB PNG; values are clamped to [0,1] (NaN becomes 0).</summary>
    public static byte[] EncodePng(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        if (channels is not (1 or 3))
            throw new ArgumentException($"An image needs 1 or 3 channels, got {channels}.", nameof(channels));
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"An image needs a positive size, got {height}x{width}.");
        long plane = (long)height * width;
        if (chw.Length != channels * plane)
            throw new ArgumentException($"Expected {channels}x{height}x{width} = {channels * plane} values, got {chw.Length}.", nameof(chw));

        var rgba = new byte[plane * 4];
        for (long i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
                rgba[i * 4 + c] = ToByte(chw[(int)((channels == 1 ? 0 : c) * plane + i)]);
            rgba[i * 4 + 3] = 255;
        }

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
                         ?? throw new InvalidOperationException($"SkiaSharp could not encode a {width}x{height} PNG.");
        return data.ToArray();
    }

    /// <summary>A PNG enlarged by a whole factor, each pixel becoming a scale×scale block (nearest neighbour).</summary>
    public static byte[] EnlargePng(byte[] png, int scale)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        using var source = SKBitmap.Decode(png) ?? throw new FormatException("Not a decodable PNG.");
        using var enlarged = new SKBitmap(new SKImageInfo(source.Width * scale, source.Height * scale, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(enlarged))
        using (var image = SKImage.FromBitmap(source))
            canvas.DrawImage(image, new SKRect(0, 0, enlarged.Width, enlarged.Height), new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None));
        using var data = enlarged.Encode(SKEncodedImageFormat.Png, 100)
                         ?? throw new InvalidOperationException($"SkiaSharp could not encode a {enlarged.Width}x{enlarged.Height} PNG.");
        return data.ToArray();
    }

    /// <summary>Smallest and largest finite value (NaN, NaN when there is none).</summary>
    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return min > max ? (float.NaN, float.NaN) : (min, max);
    }

    /// <summary>Width and height from a PNG's IHDR chunk (bytes 16..23), without decoding the image.</summary>
    public static (int Width, int Height) PngSize(ReadOnlySpan<byte> png)
    {
        ReadOnlySpan<byte> signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length < 24 || !png[..8].SequenceEqual(signature) || png[12] != 'I' || png[13] != 'H' || png[14] != 'D' || png[15] != 'R')
            throw new FormatException("Not a PNG image (no PNG signature and IHDR chunk at the start).");
        int w = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png[16..20]);
        int h = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png[20..24]);
        return (w, h);
    }

    private static byte ToByte(float v) =>
        float.IsNaN(v) ? (byte)0 : (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);
}
