using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Images;

/// <summary>
/// Image files ↔ tensors, with SkiaSharp. Image tensors are float [1,3,H,W] (or [3,H,W]) with values in [0,1], RGB.
/// <list type="bullet">
/// <item>Load: PNG, JPEG, WebP (and whatever else Skia decodes: GIF first frame, BMP, ICO); decoded to 8-bit RGBA,
/// transparency composited on white, EXIF orientation applied, no colour management (ICC profiles ignored, as PIL does).</item>
/// <item>Save: values clamped to [0,1], ×255, rounded half to even, so an 8-bit PNG loaded and saved again has
/// identical pixels. PNG text entries (prompt, seed, settings) go in tEXt/iTXt chunks. A batch [N,3,H,W] with N &gt; 1
/// is saved as one grid image (<see cref="ImageGrid"/>); <see cref="SaveEach"/> writes one file per image.</item>
/// </list>
/// </summary>
public static class ImageIO
{
    /// <summary>File extensions <see cref="Save"/> understands.</summary>
    public static IReadOnlyList<string> SaveExtensions { get; } = [".png", ".jpg", ".jpeg", ".webp"];

    /// <summary>Reads an image file into a [1,3,H,W] float32 CPU tensor in [0,1].</summary>
    public static Tensor Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file not found: {path}", path);
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>Reads an encoded image from a stream; <paramref name="name"/> names it in errors.</summary>
    public static Tensor Load(Stream stream, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        name ??= "image stream";
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        if (memory.Length == 0) throw new InvalidDataException($"'{name}' is empty, not an image.");
        using var data = SKData.CreateCopy(memory.GetBuffer().AsSpan(0, (int)memory.Length));
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException($"'{name}' is not an image SkiaSharp can decode (PNG, JPEG, WebP, GIF, BMP).");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.IncompleteInput)
            throw new InvalidDataException($"'{name}' is truncated: the {codec.EncodedFormat} data ends before the image does.");
        if (result != SKCodecResult.Success)
            throw new InvalidDataException($"'{name}' could not be decoded as {codec.EncodedFormat}: {result}.");
        using var pixmap = bitmap.PeekPixels();
        using var upright = PixelConversion.FromPixmap(pixmap);
        return ApplyOrigin(upright, codec.EncodedOrigin);
    }

    /// <summary>Any SKBitmap → [1,3,H,W] float32 in [0,1], alpha composited on white.</summary>
    public static Tensor FromBitmap(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var pixmap = bitmap.PeekPixels()
            ?? throw new ArgumentException("The bitmap has no readable pixels.", nameof(bitmap));
        return PixelConversion.FromPixmap(pixmap);
    }

    /// <summary>[3,H,W] or [1,3,H,W] in [0,1] → a new opaque 8-bit RGBA SKBitmap (caller disposes).</summary>
    public static SKBitmap ToBitmap(Tensor image)
    {
        using var rgba = PixelConversion.ToRgbaBytes(image);
        return PixelConversion.ToBitmap(rgba);
    }

    /// <summary>The image as PNG file bytes, with optional text entries.</summary>
    public static byte[] ToPngBytes(Tensor image, IReadOnlyDictionary<string, string>? textChunks = null)
    {
        using var bitmap = ToBitmap(image);
        return EncodePng(bitmap, textChunks);
    }

    /// <summary>
    /// Writes [3,H,W] / [1,3,H,W] (or a batch [N,3,H,W], as a grid) to <paramref name="path"/>; the format follows
    /// the extension (.png, .jpg/.jpeg at <paramref name="jpegQuality"/>, .webp lossless). Text entries need PNG.
    /// Creates the folder if needed.
    /// </summary>
    public static void Save(Tensor image, string path, IReadOnlyDictionary<string, string>? textChunks = null, int jpegQuality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(path);
        if (image.dim() == 4 && image.shape[0] > 1)
        {
            using var grid = ImageGrid.Make(Unbind(image));
            Save(grid, path, textChunks, jpegQuality);
            return;
        }
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (!SaveExtensions.Contains(extension))
            throw new ArgumentException($"Cannot save '{path}': unknown image extension '{extension}' (use {string.Join(", ", SaveExtensions)}).", nameof(path));
        if (textChunks is { Count: > 0 } && extension != ".png")
            throw new ArgumentException($"Cannot save '{path}': text entries ({string.Join(", ", textChunks.Keys)}) can only be stored in a PNG.", nameof(textChunks));

        byte[] bytes;
        using (var bitmap = ToBitmap(image))
        {
            bytes = extension switch
            {
                ".png" => EncodePng(bitmap, textChunks),
                ".webp" => Encode(bitmap, SKEncodedImageFormat.Webp, 100, path),
                _ => Encode(bitmap, SKEncodedImageFormat.Jpeg, Math.Clamp(jpegQuality, 1, 100), path),
            };
        }
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// Writes each image of a batch [N,3,H,W] to its own file: "{0}" in <paramref name="path"/> is replaced by
    /// the index (e.g. "out/img-{0:D3}.png"), else "-i" goes before the extension. Returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> SaveEach(Tensor images, string path, IReadOnlyDictionary<string, string>? textChunks = null, int jpegQuality = 95)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(path);
        var list = images.dim() == 4 ? Unbind(images) : [images];
        var written = new List<string>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            string target = path.Contains("{0", StringComparison.Ordinal)
                ? string.Format(System.Globalization.CultureInfo.InvariantCulture, path, i)
                : Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{i}{Path.GetExtension(path)}");
            Save(list[i], target, textChunks, jpegQuality);
            written.Add(target);
        }
        return written;
    }

    /// <summary>Shorthand for <see cref="ImageGrid.Make"/> with default layout: a [1,3,H,W] grid, labels under the images.</summary>
    public static Tensor Grid(IReadOnlyList<Tensor> images, IReadOnlyList<string?>? labels = null, int columns = 0) =>
        ImageGrid.Make(images, columns, labels);

    /// <summary>The text entries (tEXt, iTXt, zTXt) of a PNG file.</summary>
    public static Dictionary<string, string> ReadPngText(string path) => PngTextChunks.Read(path);

    /// <summary>
    /// Resamples [N,C,H,W] or [C,H,W] to <paramref name="width"/>×<paramref name="height"/> with torch's bicubic
    /// interpolation, antialiased when shrinking (PIL-style filter widening). Stays on the tensor's device and
    /// dtype, keeps full float precision and is differentiable; values may overshoot [0,1] slightly near edges.
    /// </summary>
    public static Tensor Resize(Tensor image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (image.dim() is not (3 or 4))
            throw new ArgumentException($"Resize expects [C,H,W] or [N,C,H,W], got {PixelConversion.Describe(image.shape)}.", nameof(image));
        if (!image.is_floating_point())
            throw new ArgumentException($"Resize expects a float tensor, got {image.dtype}.", nameof(image));
        using var scope = NewDisposeScope();
        var batch = image.dim() == 3 ? image.unsqueeze(0) : image;
        var resized = nn.functional.interpolate(batch, [height, width], mode: InterpolationMode.Bicubic,
            align_corners: false, antialias: true);
        return (image.dim() == 3 ? resized.squeeze(0) : resized).MoveToOuterDisposeScope();
    }

    private static List<Tensor> Unbind(Tensor batch)
    {
        var list = new List<Tensor>((int)batch.shape[0]);
        for (long i = 0; i < batch.shape[0]; i++) list.Add(batch[i]);
        return list;
    }

    private static byte[] EncodePng(SKBitmap bitmap, IReadOnlyDictionary<string, string>? textChunks)
    {
        byte[] png = Encode(bitmap, SKEncodedImageFormat.Png, 100, "PNG");
        return textChunks is { Count: > 0 } ? PngTextChunks.Insert(png, textChunks) : png;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality, string target)
    {
        using var data = bitmap.Encode(format, quality)
            ?? throw new InvalidOperationException($"SkiaSharp failed to encode {format} for '{target}'.");
        return data.ToArray();
    }

    /// <summary>Turns the stored pixels upright according to the EXIF orientation the codec reported.</summary>
    internal static Tensor ApplyOrigin(Tensor image, SKEncodedOrigin origin)
    {
        // image is [1,3,H,W]; transpose swaps H and W (out[y][x] = in[x][y]).
        using var scope = NewDisposeScope();
        var result = origin switch
        {
            SKEncodedOrigin.TopRight => image.flip(3),                          // mirrored horizontally
            SKEncodedOrigin.BottomRight => image.flip(2, 3),                    // rotated 180°
            SKEncodedOrigin.BottomLeft => image.flip(2),                        // mirrored vertically
            SKEncodedOrigin.LeftTop => image.transpose(2, 3),                   // transposed
            SKEncodedOrigin.RightTop => image.transpose(2, 3).flip(3),          // needs 90° clockwise
            SKEncodedOrigin.RightBottom => image.transpose(2, 3).flip(2, 3),    // transverse
            SKEncodedOrigin.LeftBottom => image.transpose(2, 3).flip(2),        // needs 90° counter-clockwise
            _ => image.alias(),
        };
        return result.contiguous().MoveToOuterDisposeScope();
    }
}
