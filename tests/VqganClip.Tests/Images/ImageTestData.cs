using SkiaSharp;

namespace VqganClip.Tests.Images;

/// <summary>Encoded test images made directly with SkiaSharp (independent of ImageIO's writer).</summary>
internal static class ImageTestData
{
    /// <summary>Random 8-bit RGBA pixels (alpha 255 unless <paramref name="alpha"/> is given), row-major.</summary>
    public static byte[] RandomRgba(int width, int height, int seed, byte? alpha = 255)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 4];
        random.NextBytes(pixels);
        if (alpha is { } a)
            for (int i = 3; i < pixels.Length; i += 4) pixels[i] = a;
        return pixels;
    }

    public static byte[] Encode(byte[] rgba, int width, int height, SKEncodedImageFormat format, int quality = 100, SKAlphaType alphaType = SKAlphaType.Opaque)
    {
        using var bitmap = ToBitmap(rgba, width, height, alphaType);
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    public static SKBitmap ToBitmap(byte[] rgba, int width, int height, SKAlphaType alphaType = SKAlphaType.Opaque)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alphaType));
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    /// <summary>Decodes a file to raw RGBA (unpremultiplied) bytes with SkiaSharp.</summary>
    public static byte[] DecodeRgba(byte[] encoded, out int width, out int height)
    {
        using var codec = SKCodec.Create(SKData.CreateCopy(encoded));
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, bitmap.GetPixels()));
        width = info.Width;
        height = info.Height;
        return bitmap.Bytes;
    }

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("vqgan-images-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
