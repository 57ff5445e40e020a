using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Images;

/// <summary>
/// Whole-image copies between float image tensors and 8-bit RGBA pixel memory: the conversion is done by
/// torch ops on the whole tensor, and the bytes move with one block copy (or one Skia call) — no per-pixel interop.
/// </summary>
internal static class PixelConversion
{
    /// <summary>
    /// [3,H,W] or [1,3,H,W] (a [1,H,W] / [1,1,H,W] gray image is repeated to RGB), values in [0,1], any device
    /// and float type → contiguous CPU uint8 [H,W,4], alpha 255. Values are clamped to [0,1], scaled by 255 and
    /// rounded half to even (torch.round), so 8-bit data that came in as v/255 goes out as exactly v.
    /// </summary>
    public static Tensor ToRgbaBytes(Tensor image, string what = "image")
    {
        var chw = AsChw(image, what);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = chw.detach().to(CPU).to(float32);
        if (x.isnan().any().item<bool>())
            throw new ArgumentException($"The {what} contains NaN values; nothing sensible can be saved.", nameof(image));
        if (x.shape[0] == 1) x = x.expand(3, -1, -1);
        var rgb = x.clamp(0, 1).mul(255).round_().to(uint8).permute(1, 2, 0); // HWC
        var alpha = full(new long[] { rgb.shape[0], rgb.shape[1], 1 }, (byte)255, uint8);
        return cat([rgb, alpha], 2).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Copies RGBA bytes from <see cref="ToRgbaBytes"/> into a new opaque 8-bit RGBA bitmap.</summary>
    public static unsafe SKBitmap ToBitmap(Tensor rgbaBytes)
    {
        int height = checked((int)rgbaBytes.shape[0]), width = checked((int)rgbaBytes.shape[1]);
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var source = rgbaBytes.bytes;
        int rowBytes = width * 4;
        byte* destination = (byte*)bitmap.GetPixels();
        if (bitmap.RowBytes == rowBytes)
        {
            source.CopyTo(new Span<byte>(destination, source.Length));
        }
        else
        {
            for (int y = 0; y < height; y++)
                source.Slice(y * rowBytes, rowBytes).CopyTo(new Span<byte>(destination + (long)y * bitmap.RowBytes, rowBytes));
        }
        bitmap.NotifyPixelsChanged();
        return bitmap;
    }

    /// <summary>Any SKBitmap/SKPixmap → [1,3,H,W] float32 in [0,1] on the CPU, alpha composited on white.</summary>
    public static unsafe Tensor FromPixmap(SKPixmap pixmap)
    {
        int width = pixmap.Width, height = pixmap.Height;
        using var rgba = empty(new long[] { height, width, 4 }, uint8);
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        fixed (byte* destination = rgba.bytes)
        {
            // Skia converts any colour type / alpha type straight into the tensor's memory.
            if (!pixmap.ReadPixels(info, (IntPtr)destination, width * 4))
                throw new InvalidOperationException($"SkiaSharp could not convert a {pixmap.ColorType}/{pixmap.AlphaType} bitmap to RGBA.");
        }
        return FromRgbaBytes(rgba);
    }

    /// <summary>uint8 [H,W,4] (unpremultiplied) → [1,3,H,W] float32 in [0,1]: colour over white by alpha.</summary>
    public static Tensor FromRgbaBytes(Tensor rgba)
    {
        using var scope = NewDisposeScope();
        var x = rgba.permute(2, 0, 1).to(float32).div_(255); // [4,H,W]
        var rgb = x.narrow(0, 0, 3);
        var a = x.narrow(0, 3, 1);
        // rgb·a + 1·(1−a): exact for opaque pixels (a == 1), white where fully transparent.
        var composited = rgb.mul(a).add_(a.neg().add_(1));
        return composited.unsqueeze(0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Checks shape [3,H,W] / [1,3,H,W] (or one channel) and returns the [C,H,W] view.</summary>
    public static Tensor AsChw(Tensor image, string what)
    {
        ArgumentNullException.ThrowIfNull(image);
        var shape = image.shape;
        var chw = shape.Length switch
        {
            3 => image,
            4 when shape[0] == 1 => image[0],
            4 => throw new ArgumentException($"The {what} is a batch of {shape[0]} images ({Describe(shape)}); pass one image, or use ImageGrid/SaveEach.", nameof(image)),
            _ => throw new ArgumentException($"The {what} has shape {Describe(shape)}; expected [3,H,W] or [1,3,H,W].", nameof(image)),
        };
        if (chw.shape[0] is not (1 or 3))
            throw new ArgumentException($"The {what} has {chw.shape[0]} channels ({Describe(shape)}); expected 3 (RGB) or 1 (gray).", nameof(image));
        if (chw.shape[1] < 1 || chw.shape[2] < 1)
            throw new ArgumentException($"The {what} is empty ({Describe(shape)}).", nameof(image));
        if (!chw.is_floating_point())
            throw new ArgumentException($"The {what} is {chw.dtype}; expected a float tensor with values in [0,1].", nameof(image));
        return chw;
    }

    public static string Describe(long[] shape) => "[" + string.Join(",", shape) + "]";
}
