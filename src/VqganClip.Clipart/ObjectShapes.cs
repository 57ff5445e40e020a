using SkiaSharp;

namespace VqganClip.Clipart;

/// <summary>
/// The drawing of every object kind as Skia paths in a unit box [-0.5,0.5]² (y down), drawn
/// through a canvas transform. Each kind has a main region painted in the object's colour and,
/// for the multi-part kinds, small details in the neutral <see cref="Palette.Detail"/> grey
/// (trunk, mast, stem, door, flower centre) so the colour judge sees one colour per object.
/// Every drawing is shifted so that its coloured region's centre of mass sits at the origin: the
/// judge locates objects by the centroid of their colour, so a crescent moon or a boat with its sails
/// must have that centroid where the layout put the object.
/// Paths are built once per instance; an instance is not thread-safe (one per rendering thread).
/// </summary>
internal sealed class ObjectShapes : IDisposable
{
    /// <summary>Under is drawn before the coloured main region, Over after it.</summary>
    internal sealed record Parts(SKPath Main, SKPath? Under, SKPath? Over);

    private readonly Parts[] _parts;

    public ObjectShapes()
    {
        _parts = Vocabulary.Kinds.Select(k => CenterOnMass(Build(k))).ToArray();
    }

    public Parts this[ObjectKind kind] => _parts[(int)kind];

    private static Parts Build(ObjectKind kind) => kind switch
    {
        ObjectKind.Circle => new(Circle(0, 0, 0.5f), null, null),
        ObjectKind.Square => new(Rect(-0.44f, -0.44f, 0.44f, 0.44f), null, null),
        ObjectKind.Triangle => new(Polygon((0, -0.5f), (0.5f, 0.42f), (-0.5f, 0.42f)), null, null),
        ObjectKind.Star => new(Star(5, 0.5f, 0.22f), null, null),
        ObjectKind.Heart => new(Heart(), null, null),
        ObjectKind.Sun => new(Sun(), null, null),
        ObjectKind.Moon => new(Moon(), null, null),
        ObjectKind.Tree => new(
            Union(Polygon((0, -0.5f), (0.24f, -0.17f), (-0.24f, -0.17f)),
                  Polygon((0, -0.34f), (0.34f, 0.07f), (-0.34f, 0.07f)),
                  Polygon((0, -0.14f), (0.45f, 0.32f), (-0.45f, 0.32f))),
            Rect(-0.07f, 0.28f, 0.07f, 0.5f), null),
        ObjectKind.House => new(
            Union(Rect(-0.36f, -0.06f, 0.36f, 0.46f), Polygon((-0.48f, -0.02f), (0, -0.46f), (0.48f, -0.02f))),
            null,
            Union(Rect(-0.08f, 0.2f, 0.08f, 0.46f), Rect(0.14f, 0.04f, 0.28f, 0.17f))),
        ObjectKind.Cloud => new(
            Union(Circle(-0.26f, 0.06f, 0.2f), Circle(0.02f, -0.06f, 0.28f), Circle(0.27f, 0.08f, 0.19f),
                  Rect(-0.26f, 0.06f, 0.27f, 0.26f)),
            null, null),
        ObjectKind.Flower => new(Petals(), Rect(-0.03f, 0.05f, 0.03f, 0.5f), Circle(0, -0.11f, 0.1f)),
        ObjectKind.Boat => new(
            Union(Polygon((-0.5f, 0.2f), (0.5f, 0.2f), (0.35f, 0.44f), (-0.35f, 0.44f)),
                  Polygon((0.05f, -0.46f), (0.05f, 0.13f), (0.4f, 0.13f)),
                  Polygon((-0.05f, -0.3f), (-0.05f, 0.13f), (-0.3f, 0.13f))),
            Rect(-0.025f, -0.5f, 0.025f, 0.2f), null),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown object kind."),
    };

    /// <summary>Moves all parts so the main region's area centroid (measured by rasterising it) is at (0,0).</summary>
    private static Parts CenterOnMass(Parts parts)
    {
        const int side = 256;
        using var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Alpha8, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { IsAntialias = true, Color = SKColors.Black })
        {
            canvas.Clear(SKColors.Transparent);
            canvas.Translate(side / 2f, side / 2f);
            canvas.Scale(side / 1.5f); // room for parts just outside the unit box
            canvas.DrawPath(parts.Main, paint);
        }
        var alpha = bitmap.GetPixelSpan();
        double total = 0, sx = 0, sy = 0;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                int a = alpha[y * side + x];
                total += a;
                sx += a * (x + 0.5);
                sy += a * (y + 0.5);
            }
        float cx = (float)((sx / total - side / 2.0) * 1.5 / side);
        float cy = (float)((sy / total - side / 2.0) * 1.5 / side);
        var shift = SKMatrix.CreateTranslation(-cx, -cy);
        SKPath? Moved(SKPath? p)
        {
            if (p is null) return null;
            var moved = new SKPath(p);
            moved.Transform(shift);
            p.Dispose();
            return moved;
        }
        return new Parts(Moved(parts.Main)!, Moved(parts.Under), Moved(parts.Over));
    }

    private static SKPath Circle(float x, float y, float r)
    {
        using var b = new SKPathBuilder();
        b.AddCircle(x, y, r);
        return b.Detach();
    }

    private static SKPath Rect(float l, float t, float r, float b)
    {
        using var builder = new SKPathBuilder();
        builder.AddRect(new SKRect(l, t, r, b));
        return builder.Detach();
    }

    private static SKPath Polygon(params (float X, float Y)[] points)
    {
        using var b = new SKPathBuilder();
        b.AddPoly(points.Select(q => new SKPoint(q.X, q.Y)).ToArray(), close: true);
        return b.Detach();
    }

    private static SKPath Star(int points, float outer, float inner)
    {
        var vertices = new (float, float)[points * 2];
        for (int i = 0; i < vertices.Length; i++)
        {
            float r = i % 2 == 0 ? outer : inner;
            float angle = -MathF.PI / 2 + i * MathF.PI / points; // first point straight up
            vertices[i] = (r * MathF.Cos(angle), r * MathF.Sin(angle) + 0.04f); // + 0.04: centre the star's bounding box
        }
        return Polygon(vertices);
    }

    private static SKPath Heart()
    {
        using var p = new SKPathBuilder();
        p.MoveTo(0, 0.46f);
        p.CubicTo(-0.12f, 0.34f, -0.5f, 0.1f, -0.5f, -0.16f);
        p.CubicTo(-0.5f, -0.42f, -0.18f, -0.52f, 0, -0.28f);
        p.CubicTo(0.18f, -0.52f, 0.5f, -0.42f, 0.5f, -0.16f);
        p.CubicTo(0.5f, 0.1f, 0.12f, 0.34f, 0, 0.46f);
        p.Close();
        return p.Detach();
    }

    private static SKPath Sun()
    {
        var parts = new List<SKPath> { Circle(0, 0, 0.25f) };
        for (int i = 0; i < 8; i++)
        {
            float a = i * MathF.PI / 4, w = 0.28f;
            (float, float) At(float r, float da) => (r * MathF.Cos(a + da), r * MathF.Sin(a + da));
            parts.Add(Polygon(At(0.3f, -w), At(0.5f, 0), At(0.3f, w)));
        }
        return Union([.. parts]);
    }

    private static SKPath Moon()
    {
        using var disk = Circle(-0.02f, 0, 0.46f);
        using var bite = Circle(0.2f, -0.1f, 0.38f);
        return disk.Op(bite, SKPathOp.Difference) ?? throw new InvalidOperationException("Skia failed to build the moon path.");
    }

    private static SKPath Petals()
    {
        var parts = new List<SKPath>();
        for (int i = 0; i < 6; i++)
        {
            float a = i * MathF.PI / 3;
            parts.Add(Circle(0.22f * MathF.Cos(a), -0.11f + 0.22f * MathF.Sin(a), 0.16f));
        }
        return Union([.. parts]);
    }

    private static SKPath Union(params SKPath[] paths)
    {
        var result = paths[0];
        foreach (var p in paths.Skip(1))
        {
            var next = result.Op(p, SKPathOp.Union) ?? throw new InvalidOperationException("Skia failed to union object parts.");
            result.Dispose();
            p.Dispose();
            result = next;
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var p in _parts)
        {
            p.Main.Dispose();
            p.Under?.Dispose();
            p.Over?.Dispose();
        }
    }
}
