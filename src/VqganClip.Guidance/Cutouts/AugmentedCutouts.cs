using TorchSharp;
using VqganClip.Guidance.Autograd;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Cutouts;

/// <summary>
/// Cutouts with augmentations, all on the whole batch at once: the same random crops as <see cref="OriginalCutouts"/>,
/// each composed with a random flip, affine (rotation, scale, shear, translation) and perspective warp into one
/// projective matrix per cutout, so all geometry is a single grid_sample; then per-cutout colour jitter (brightness,
/// contrast, and saturation/hue as one linear map in YIQ space) and Gaussian noise. Written here in TorchSharp
/// (kornia's role in the Python original; there is no served .NET equivalent). Random numbers come from the run's
/// generator in a fixed order, so runs are reproducible.
/// </summary>
public sealed class AugmentedCutouts : ICutouts
{
    // RGB <-> YIQ (NTSC) matrices; hue is a rotation of the (I, Q) plane, saturation a scaling of it.
    private static readonly double[,] RgbToYiq = { { 0.299, 0.587, 0.114 }, { 0.596, -0.274, -0.322 }, { 0.211, -0.523, 0.312 } };
    private static readonly double[,] YiqToRgb = Invert(RgbToYiq);
    // Uniform draws per cutout, one column per purpose: 0 flip gate, 1 affine gate, 2-6 affine, 7 perspective gate,
    // 8-15 corner offsets, 16 colour gate, 17-20 brightness/contrast/saturation/hue.
    private const int DrawsPerCutout = 21;

    public AugmentedCutouts(int cutSize, int count, double cutPower = 1.0, AugmentOptions? options = null)
    {
        Crops = new OriginalCutouts(cutSize, count, cutPower);
        Options = options ?? new AugmentOptions();
    }

    public OriginalCutouts Crops { get; }
    public AugmentOptions Options { get; }
    public int CutSize => Crops.CutSize;
    public int Count => Crops.Count;
    public double CutPower => Crops.CutPower;

    public ICutouts WithCount(int count) => count == Count ? this : new AugmentedCutouts(CutSize, count, CutPower, Options);
    public string Name => "augmented";

    public Tensor Cut(Tensor image, Generator rng)
    {
        int n = Count;
        var boxes = Crops.DrawBoxes((int)image.shape[2], (int)image.shape[3], rng);
        using var scope = NewDisposeScope();
        var r = rand(new long[] { n, DrawsPerCutout }, ScalarType.Float64, generator: rng).data<double>().ToArray();
        double R(int i, int k) => r[i * DrawsPerCutout + k];

        var matrices = new List<double[,]>(n);
        var ratios = new List<double>(n);
        var color = new float[n * 9];
        var brightness = new float[n];
        var contrast = new float[n];
        var o = Options;
        for (int i = 0; i < n; i++)
        {
            var m = Homography.Identity();
            if (R(i, 0) < o.FlipProbability)
                m = new double[,] { { -1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
            double zoom = 1;
            if (R(i, 1) < o.AffineProbability)
            {
                double angle = (R(i, 2) * 2 - 1) * o.Degrees * Math.PI / 180;
                zoom = o.ScaleMin + R(i, 3) * (o.ScaleMax - o.ScaleMin);
                double shear = Math.Tan((R(i, 4) * 2 - 1) * o.ShearDegrees * Math.PI / 180);
                double tx = (R(i, 5) * 2 - 1) * o.Translate * 2, ty = (R(i, 6) * 2 - 1) * o.Translate * 2; // normalised units span 2
                double cos = Math.Cos(angle) / zoom, sin = Math.Sin(angle) / zoom;  // zoom in = sample a smaller area
                var affine = new double[,] { { cos, -sin + cos * shear, tx }, { sin, cos + sin * shear, ty }, { 0, 0, 1 } };
                m = Homography.Multiply(affine, m);
            }
            if (R(i, 7) < o.PerspectiveProbability)
            {
                // move each corner of the output square by up to distortion·(half-side) inward or outward
                var from = new (double, double)[] { (-1, -1), (1, -1), (1, 1), (-1, 1) };
                var to = new (double X, double Y)[4];
                for (int c = 0; c < 4; c++)
                {
                    double dx = (R(i, 8 + 2 * c) * 2 - 1) * o.Distortion * 0.5;
                    double dy = (R(i, 9 + 2 * c) * 2 - 1) * o.Distortion * 0.5;
                    to[c] = (from[c].Item1 + dx, from[c].Item2 + dy);
                }
                m = Homography.Multiply(m, Homography.FromCorrespondences(from, to));
            }
            matrices.Add(Homography.Multiply(boxes[i].ToMatrix(), m));
            ratios.Add(boxes[i].Size / zoom / CutSize);
            SetColor(color, i, brightness, contrast, r, i);
        }

        var sampled = CutoutSampler.Sample(image, matrices, ratios, CutSize);           // [n,3,S,S]
        var cm = tensor(color, new long[] { n, 3, 3 }, device: image.device);
        var jittered = einsum("nij,njhw->nihw", cm, sampled) * tensor(brightness, device: image.device).view(n, 1, 1, 1);
        var mean = jittered.mean(new long[] { 1, 2, 3 }, keepdim: true);
        jittered = (jittered - mean) * tensor(contrast, device: image.device).view(n, 1, 1, 1) + mean;
        var clamped = GradientTricks.ClampWithGrad(jittered, 0, 1);
        if (o.NoiseFactor > 0)
        {
            var facs = rand(new long[] { n, 1, 1, 1 }, generator: rng).to(image.device) * o.NoiseFactor;
            var noise = randn(new long[] { n, 3, CutSize, CutSize }, generator: rng).to(image.device);
            clamped = clamped + facs * noise;
        }
        return clamped.MoveToOuterDisposeScope();
    }

    private void SetColor(float[] color, int i, float[] brightness, float[] contrast, double[] r, int row)
    {
        double D(int k) => r[row * DrawsPerCutout + 16 + k];
        var o = Options;
        double b = 1, c = 1, s = 1, hue = 0;
        if (D(0) < o.ColorProbability)
        {
            b = 1 + (D(1) * 2 - 1) * o.Brightness;
            c = 1 + (D(2) * 2 - 1) * o.Contrast;
            s = 1 + (D(3) * 2 - 1) * o.Saturation;
            hue = (D(4) * 2 - 1) * o.Hue * 2 * Math.PI;
        }
        double cos = Math.Cos(hue) * s, sin = Math.Sin(hue) * s;
        var iq = new double[,] { { 1, 0, 0 }, { 0, cos, -sin }, { 0, sin, cos } };
        var m = Homography.Multiply(YiqToRgb, Homography.Multiply(iq, RgbToYiq));
        for (int a = 0; a < 3; a++)
            for (int k = 0; k < 3; k++)
                color[i * 9 + a * 3 + k] = (float)m[a, k];
        brightness[i] = (float)b;
        contrast[i] = (float)c;
    }

    private static double[,] Invert(double[,] m)
    {
        double det = m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0]) + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);
        var r = new double[3, 3];
        r[0, 0] = (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) / det;
        r[0, 1] = (m[0, 2] * m[2, 1] - m[0, 1] * m[2, 2]) / det;
        r[0, 2] = (m[0, 1] * m[1, 2] - m[0, 2] * m[1, 1]) / det;
        r[1, 0] = (m[1, 2] * m[2, 0] - m[1, 0] * m[2, 2]) / det;
        r[1, 1] = (m[0, 0] * m[2, 2] - m[0, 2] * m[2, 0]) / det;
        r[1, 2] = (m[0, 2] * m[1, 0] - m[0, 0] * m[1, 2]) / det;
        r[2, 0] = (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]) / det;
        r[2, 1] = (m[0, 1] * m[2, 0] - m[0, 0] * m[2, 1]) / det;
        r[2, 2] = (m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]) / det;
        return r;
    }
}
