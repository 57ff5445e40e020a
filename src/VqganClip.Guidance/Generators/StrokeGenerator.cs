using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>
/// CLIPDraw in spirit: the picture is N cubic Bézier strokes over a plain background; their control points, widths,
/// colours and opacities are optimised. Drawn by a soft differentiable rasterizer written here in TorchSharp
/// (hand-written because no served .NET library rasterizes differentiably): each curve is sampled at K points,
/// every pixel's distance to the nearest segment of that polyline gives a soft coverage
/// <c>sigmoid((width/2 − d)/softness)·opacity</c>, and strokes are composited in order over the background
/// (later strokes on top). Memory: the nearest-segment search (the K-fold part) runs without gradient in chunks of
/// strokes; only the per-stroke distance to that one segment carries a gradient, so the graph is O(N·H·W) — the
/// gradient is the same as through a min over all segments, which only flows through the minimum anyway.
/// </summary>
public sealed class StrokeGenerator : ImageGeneratorBase
{
    // Raw parameters are scaled so that an Adam step of about the learning rate (0.1 by default) is a sensible move:
    // points move ~0.5% of the image, colours/opacity ~0.01, widths ~0.1 px (CLIPDraw's lr 1 px / 0.1 / 0.01).
    private const double PointScale = 0.05, ColorScale = 0.1, OpacityScale = 0.1, WidthScale = 1.0;
    private const long MaxChunkElements = 4_000_000; // bound on strokes×segments×pixels per no-grad chunk

    private readonly float[] _background;
    private readonly Tensor _basis;       // [K,4] Bernstein weights at the K sample parameters
    private readonly Tensor _pixelCenters; // [H·W, 2] (x, y) in pixels

    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="strokes">Number of strokes N (default 32).</param>
    /// <param name="samplesPerStroke">Points sampled along each curve, K (default 16).</param>
    /// <param name="softness">Edge softness in pixels (default 0.75).</param>
    /// <param name="background">Background colour RGB in [0,1] (default white).</param>
    /// <param name="device">Device for the parameters.</param>
    public StrokeGenerator(int width, int height, int strokes = 32, int samplesPerStroke = 16, double softness = 0.75,
        float[]? background = null, Device? device = null)
        : base("strokes", width, height, device)
    {
        if (strokes <= 0) throw new ArgumentOutOfRangeException(nameof(strokes), "Need at least one stroke.");
        if (samplesPerStroke < 2) throw new ArgumentOutOfRangeException(nameof(samplesPerStroke), "Need at least 2 samples per stroke.");
        if (softness <= 0) throw new ArgumentOutOfRangeException(nameof(softness), "Softness must be positive.");
        StrokeCount = strokes;
        SamplesPerStroke = samplesPerStroke;
        Softness = softness;
        _background = background ?? new[] { 1f, 1f, 1f };
        if (_background.Length != 3) throw new ArgumentException("Background must be 3 values (RGB).", nameof(background));

        Points = AddParameter("points", strokes, 4, 2);
        Widths = AddParameter("widths", strokes);
        Colors = AddParameter("colors", strokes, 3);
        Opacities = AddParameter("opacities", strokes);

        using (no_grad())
        using (NewDisposeScope())
        {
            var t = linspace(0, 1, samplesPerStroke, dtype: ScalarType.Float32).unsqueeze(1);
            var u = 1 - t;
            _basis = cat(new[] { u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t }, 1).to(Device).DetachFromDisposeScope();
            var ys = arange(height, dtype: ScalarType.Float32) + 0.5f;
            var xs = arange(width, dtype: ScalarType.Float32) + 0.5f;
            var grid = meshgrid(new[] { ys, xs }, indexing: "ij");
            _pixelCenters = stack(new[] { grid[1].reshape(-1), grid[0].reshape(-1) }, 1).to(Device).DetachFromDisposeScope();
        }
    }

    public int StrokeCount { get; }
    public int SamplesPerStroke { get; }
    public double Softness { get; }

    /// <summary>Control points, raw [N,4,2]; position in image fractions (x, y) = raw·0.05.</summary>
    public Parameter Points { get; }
    /// <summary>Stroke widths in pixels, raw [N].</summary>
    public Parameter Widths { get; }
    /// <summary>Stroke colours, raw [N,3]; RGB = raw·0.1, clamped to [0,1].</summary>
    public Parameter Colors { get; }
    /// <summary>Stroke opacities, raw [N]; opacity = raw·0.1, clamped to [0,1].</summary>
    public Parameter Opacities { get; }

    private double MinSide => Math.Min(Width, Height);
    private double MaxWidth => Math.Max(2.0, 0.25 * MinSide);

    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["strokes"] = StrokeCount.ToString(CultureInfo.InvariantCulture),
        ["samplesPerStroke"] = SamplesPerStroke.ToString(CultureInfo.InvariantCulture),
        ["softness"] = Softness.ToString("R", CultureInfo.InvariantCulture),
        ["background"] = string.Join(",", _background.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
    };

    protected override void InitializeCore(Generator rng)
    {
        // CLIPDraw-like: a random start point, then each further control point a short random step from the last.
        var start = rand(new long[] { StrokeCount, 1, 2 }, generator: rng);
        var steps = (rand(new long[] { StrokeCount, 3, 2 }, generator: rng) - 0.5) * 0.2;
        var pts = cat(new[] { start, start + steps.cumsum(1) }, 1);
        double minW = 1.0, maxW = Math.Max(2.0, 0.04 * MinSide);
        var widths = rand(new long[] { StrokeCount }, generator: rng) * (maxW - minW) + minW;
        var colors = rand(new long[] { StrokeCount, 3 }, generator: rng);
        var opac = rand(new long[] { StrokeCount }, generator: rng) * 0.5 + 0.5;
        Points.copy_(pts / PointScale);
        Widths.copy_(widths / WidthScale);
        Colors.copy_(colors / ColorScale);
        Opacities.copy_(opac / OpacityScale);
    }

    public override Tensor Render()
    {
        EnsureInitialized();
        using var scope = NewDisposeScope();
        var size = tensor(new float[] { Width, Height }, device: Device);
        var points = Points * PointScale * size;                               // [N,4,2] pixels
        var curve = einsum("kj,njd->nkd", _basis, points);                     // [N,K,2]
        var a = curve[.., ..^1];                                               // [N,S,2] segment starts
        var b = curve[.., 1..];                                                // [N,S,2] segment ends

        var nearest = NearestSegments(a, b);                                   // [N,P] (no grad)
        var index = nearest.unsqueeze(-1).expand(-1, -1, 2);                   // [N,P,2]
        var na = a.gather(1, index);                                           // [N,P,2]
        var nb = b.gather(1, index);
        var q = _pixelCenters.unsqueeze(0);                                    // [1,P,2]
        var ab = nb - na;
        var t = ((q - na) * ab).sum(-1).div((ab * ab).sum(-1).clamp_min(1e-8)).clamp(0, 1).unsqueeze(-1);
        var d = (q - (na + t * ab)).pow(2).sum(-1).add(1e-8).sqrt();             // [N,P] distance to the stroke's centre line

        var width = (Widths * WidthScale).unsqueeze(1);                        // [N,1]
        var opacity = (Opacities * OpacityScale).clamp(0, 1).unsqueeze(1);
        var alpha = ((width / 2 - d) / Softness).sigmoid() * opacity;          // [N,P] coverage

        // Over-compositing in closed form: stroke i is seen through every later stroke j>i.
        var logClear = (-alpha.clamp(0, 1 - 1e-6)).log1p();                     // log(1-alpha)
        var total = logClear.sum(0, keepdim: true);                            // [1,P]
        var behind = total - logClear.cumsum(0);                               // sum over j>i of log(1-alpha_j)
        var weights = alpha * behind.exp();                                    // [N,P]
        var colors = (Colors * ColorScale).clamp(0, 1);                        // [N,3]
        var bg = tensor(_background, device: Device).unsqueeze(0);             // [1,3]
        var rgb = weights.t().matmul(colors) + total.exp().t() * bg;           // [P,3]
        return rgb.t().reshape(1, 3, Height, Width).MoveToOuterDisposeScope();
    }

    /// <summary>For every stroke and pixel, the index of the nearest polyline segment (no gradient; chunked over strokes).</summary>
    private Tensor NearestSegments(Tensor a, Tensor b)
    {
        using var _ = no_grad();
        long n = a.shape[0], s = a.shape[1], p = _pixelCenters.shape[0];
        long chunk = Math.Max(1, MaxChunkElements / Math.Max(1, s * p));
        var parts = new List<Tensor>();
        var q = _pixelCenters.unsqueeze(0).unsqueeze(0);                        // [1,1,P,2]
        for (long i = 0; i < n; i += chunk)
        {
            long c = Math.Min(n, i + chunk) - i;
            using var chunkScope = NewDisposeScope();                           // free each chunk's [c,S,P] temporaries at once
            var ca = a.narrow(0, i, c).detach().unsqueeze(2);                   // [c,S,1,2]
            var cab = b.narrow(0, i, c).detach().unsqueeze(2) - ca;             // [c,S,1,2]
            var qa = q - ca;                                                    // [c,S,P,2]
            var t = (qa * cab).sum(-1, keepdim: true).div((cab * cab).sum(-1, keepdim: true).clamp_min(1e-8)).clamp(0, 1);
            var d2 = (qa - t * cab).pow(2).sum(-1);                             // [c,S,P]
            parts.Add(d2.argmin(1).MoveToOuterDisposeScope());                 // [c,P]
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 0);
    }

    public override void PostStep()
    {
        using var _ = no_grad();
        Points.clamp_(-0.1 / PointScale, 1.1 / PointScale);
        Widths.clamp_(0.5 / WidthScale, MaxWidth / WidthScale);
        Colors.clamp_(0, 1 / ColorScale);
        Opacities.clamp_(0, 1 / OpacityScale);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _basis.Dispose();
            _pixelCenters.Dispose();
        }
        base.Dispose(disposing);
    }
}
