using System.Runtime.InteropServices;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Clipart;

/// <summary>How <see cref="SceneRenderer"/> draws a scene.</summary>
public enum SceneStyle
{
    /// <summary>The coloured scene: background, filled shapes, details.</summary>
    Filled,
    /// <summary>
    /// A black line drawing on white: each shape's parts (and a grass background's horizon) stroked, nothing filled,
    /// no colour. The input side of outline → picture pairs (Pix2Pix).
    /// </summary>
    Outline,
}

/// <summary>
/// Draws a <see cref="SceneSpec"/> with SkiaSharp (antialiased) at <see cref="SceneLayout.Size"/>
/// pixels (or any other side: all geometry is relative). Deterministic: the same spec gives the
/// same bytes. Each thread keeps its own canvas and prebuilt paths, so batch rendering runs in
/// parallel without locks.
/// </summary>
public static class SceneRenderer
{
    /// <summary>Where the grass begins on a grass background (fraction of the height from the top).</summary>
    public const float Horizon = 0.55f;

    // One per thread, reused for every scene that thread draws; never disposed (a few KB and 12 paths per thread).
    [ThreadStatic] private static RenderContext? _context;

    /// <summary>A new bitmap (caller disposes) with the scene drawn on it.</summary>
    public static SKBitmap Render(SceneSpec spec, int size = SceneLayout.Size, SceneStyle style = SceneStyle.Filled)
    {
        var context = Context(size);
        context.Draw(spec, style);
        return context.Bitmap.Copy() ?? throw new InvalidOperationException("Skia could not copy the rendered bitmap.");
    }

    /// <summary>The scene as interleaved RGB bytes, row-major [size, size, 3].</summary>
    public static byte[] RenderRgb(SceneSpec spec, int size = SceneLayout.Size)
    {
        var rgb = new byte[size * size * 3];
        var rgba = Context(size).Draw(spec);
        for (int p = 0, q = 0; q < rgb.Length; p += 4, q += 3)
        {
            rgb[q] = rgba[p];
            rgb[q + 1] = rgba[p + 1];
            rgb[q + 2] = rgba[p + 2];
        }
        return rgb;
    }

    /// <summary>The scene as planar floats [3, size, size] in [0,1], without torch.</summary>
    public static float[] RenderPlanar(SceneSpec spec, int size = SceneLayout.Size)
    {
        var data = new float[3 * size * size];
        ToPlanar(Context(size).Draw(spec), data, size * size);
        return data;
    }

    /// <summary>The scene as a float tensor [3, size, size] in [0,1].</summary>
    public static Tensor RenderTensor(SceneSpec spec, int size = SceneLayout.Size, SceneStyle style = SceneStyle.Filled)
    {
        var tensor = torch.empty([3, size, size], ScalarType.Float32);
        ToPlanar(Context(size).Draw(spec, style), MemoryMarshal.Cast<byte, float>(tensor.bytes), size * size);
        return tensor;
    }

    /// <summary>
    /// Many scenes at once as a float tensor [N, 3, size, size] in [0,1], rendered in parallel
    /// straight into the tensor's memory (going through a managed float[] and torch.tensor copied
    /// element by element and took longer than the drawing).
    /// </summary>
    /// <param name="maxThreads">Rendering threads; null = all cores.</param>
    public static Tensor RenderBatch(IReadOnlyList<SceneSpec> specs, int size = SceneLayout.Size, int? maxThreads = null, SceneStyle style = SceneStyle.Filled)
    {
        ArgumentNullException.ThrowIfNull(specs);
        int plane = size * size;
        var batch = torch.empty([specs.Count, 3, size, size], ScalarType.Float32);
        try
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads ?? Environment.ProcessorCount };
            // Chunks of 64 scenes per task: a 64x64 scene takes microseconds, per-item scheduling would dominate.
            Parallel.For(0, (specs.Count + 63) / 64, options, chunk =>
            {
                var context = Context(size);
                int first = chunk * 64, count = Math.Min(64, specs.Count - first);
                using var slice = batch.narrow(0, first, count); // contiguous: rows of a contiguous tensor
                var floats = MemoryMarshal.Cast<byte, float>(slice.bytes);
                for (int i = 0; i < count; i++)
                    ToPlanar(context.Draw(specs[first + i], style), floats.Slice(i * 3 * plane, 3 * plane), plane);
            });
            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private static void ToPlanar(ReadOnlySpan<byte> rgba, Span<float> destination, int plane)
    {
        const float scale = 1f / 255f;
        var r = destination[..plane];
        var g = destination.Slice(plane, plane);
        var b = destination.Slice(2 * plane, plane);
        for (int p = 0, q = 0; p < plane; p++, q += 4)
        {
            r[p] = rgba[q] * scale;
            g[p] = rgba[q + 1] * scale;
            b[p] = rgba[q + 2] * scale;
        }
    }

    private static RenderContext Context(int size)
    {
        if (size is < 8 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(size), size, "Scene side must be between 8 and 4096 pixels.");
        if (_context is null || _context.Size != size)
        {
            _context?.Dispose();
            _context = new RenderContext(size);
        }
        return _context;
    }

    private static SKBitmap NewBitmap(int size) =>
        new(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));

    private static SKPaint NewPaint() => new() { IsAntialias = true, Style = SKPaintStyle.Fill };

    private static void Draw(SKCanvas canvas, ObjectShapes shapes, SKPaint paint, SceneSpec spec, int size)
    {
        DrawBackground(canvas, paint, spec.Background, size);
        foreach (var o in spec.Objects)
            DrawObject(canvas, shapes, paint, o, size);
        canvas.Flush();
    }

    /// <summary>Pixels (at the scene's size) of an outline stroke.</summary>
    public const float OutlineStrokePixels = 1.25f;

    private static void DrawOutline(SKCanvas canvas, ObjectShapes shapes, SKPaint paint, SceneSpec spec, int size)
    {
        canvas.Clear(SKColors.White);
        paint.Color = SKColors.Black;
        paint.Style = SKPaintStyle.Stroke;
        try
        {
            paint.StrokeWidth = OutlineStrokePixels;
            if (spec.Background == SceneBackground.Grass)
                canvas.DrawLine(0, Horizon * size, size, Horizon * size, paint);
            foreach (var o in spec.Objects)
            {
                var parts = shapes[o.Kind];
                canvas.Save();
                canvas.Translate(o.CenterX * size, o.CenterY * size);
                canvas.RotateDegrees(o.RotationDegrees);
                canvas.Scale(o.Extent * size);
                // The canvas is scaled to the object's extent: the stroke width is given in those units.
                paint.StrokeWidth = OutlineStrokePixels / (o.Extent * size);
                if (parts.Under is not null) canvas.DrawPath(parts.Under, paint);
                canvas.DrawPath(parts.Main, paint);
                if (parts.Over is not null) canvas.DrawPath(parts.Over, paint);
                canvas.Restore();
            }
            canvas.Flush();
        }
        finally
        {
            paint.Style = SKPaintStyle.Fill;
        }
    }

    private static void DrawBackground(SKCanvas canvas, SKPaint paint, SceneBackground background, int size)
    {
        var colors = Palette.ColorsOf(background);
        canvas.Clear(colors[0].ToSKColor());
        if (background == SceneBackground.Grass)
        {
            paint.Color = Palette.Grass.ToSKColor();
            canvas.DrawRect(0, Horizon * size, size, size, paint);
        }
    }

    private static void DrawObject(SKCanvas canvas, ObjectShapes shapes, SKPaint paint, SceneObject o, int size)
    {
        var parts = shapes[o.Kind];
        canvas.Save();
        canvas.Translate(o.CenterX * size, o.CenterY * size);
        canvas.RotateDegrees(o.RotationDegrees);
        canvas.Scale(o.Extent * size);
        if (parts.Under is not null)
        {
            paint.Color = Palette.Detail.ToSKColor();
            canvas.DrawPath(parts.Under, paint);
        }
        paint.Color = Palette.Of(o.Color).ToSKColor();
        canvas.DrawPath(parts.Main, paint);
        if (parts.Over is not null)
        {
            paint.Color = Palette.Detail.ToSKColor();
            canvas.DrawPath(parts.Over, paint);
        }
        canvas.Restore();
    }

    /// <summary>One thread's reusable bitmap, canvas, paint and paths.</summary>
    private sealed class RenderContext(int size) : IDisposable
    {
        private readonly SKBitmap _bitmap = NewBitmap(size);
        private readonly ObjectShapes _shapes = new();
        private readonly SKPaint _paint = NewPaint();
        private SKCanvas? _canvas;

        public int Size { get; } = size;

        public SKBitmap Bitmap => _bitmap;

        /// <summary>Draws the scene and returns its RGBA pixels, valid until the next draw on this thread.</summary>
        public ReadOnlySpan<byte> Draw(SceneSpec spec, SceneStyle style = SceneStyle.Filled)
        {
            ArgumentNullException.ThrowIfNull(spec);
            _canvas ??= new SKCanvas(_bitmap);
            if (style == SceneStyle.Outline) DrawOutline(_canvas, _shapes, _paint, spec, Size);
            else SceneRenderer.Draw(_canvas, _shapes, _paint, spec, Size);
            return _bitmap.GetPixelSpan();
        }

        public void Dispose()
        {
            _canvas?.Dispose();
            _shapes.Dispose();
            _paint.Dispose();
            _bitmap.Dispose();
        }
    }
}
