using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>
/// Lucid's Fourier image parameterisation (as used by Lucid's <c>fft_image</c> + <c>to_valid_rgb</c>, and aphantasia):
/// the optimised parameters are a 2-D spectrum per decorrelated colour channel, scaled by 1/f^decay so that low
/// frequencies move first; an inverse real FFT gives the image, Lucid's colour correlation matrix mixes the
/// decorrelated channels back into RGB, and a sigmoid maps to [0,1]. A much better-conditioned prior than raw pixels.
/// </summary>
public sealed class FourierGenerator : ImageGeneratorBase
{
    /// <summary>Square root of Lucid's ImageNet colour correlation (its <c>color_correlation_svd_sqrt</c>), rows = RGB.</summary>
    private static readonly float[,] ColorCorrelationSvdSqrt =
    {
        { 0.26f, 0.09f, 0.02f },
        { 0.27f, 0.00f, -0.05f },
        { 0.27f, -0.09f, 0.03f },
    };

    private readonly Tensor _scale;       // [H, W/2+1]: 1/max(f, 1/max(W,H))^decay * sqrt(W*H)
    private readonly Tensor _colorMatrix; // [3,3]: the correlation above divided by its largest column norm

    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="decayPower">Spectrum decay exponent (Lucid's <c>decay_power</c>, default 1).</param>
    /// <param name="initStd">Standard deviation of the initial spectrum (Lucid's <c>sd</c>, default 0.01).</param>
    /// <param name="device">Device for the parameters.</param>
    public FourierGenerator(int width, int height, double decayPower = 1.0, double initStd = 0.01, Device? device = null)
        : base("fourier", width, height, device)
    {
        DecayPower = decayPower;
        InitStd = initStd;
        Spectrum = AddParameter("spectrum", 1, 3, height, width / 2 + 1, 2);
        using (no_grad())
        using (NewDisposeScope())
        {
            // Lucid's rfft2d_freqs: |f| for every (row, rfft column) bin, in cycles per pixel.
            var fy = fft.fftfreq(height, dtype: ScalarType.Float32).unsqueeze(1);
            var fx = fft.rfftfreq(width, dtype: ScalarType.Float32).unsqueeze(0);
            var freqs = (fy * fy + fx * fx).sqrt();
            var scale = freqs.clamp_min(1.0 / Math.Max(width, height)).pow(-decayPower) * Math.Sqrt((double)width * height);
            _scale = scale.to(Device).DetachFromDisposeScope();
            var c = tensor(ColorCorrelationSvdSqrt);
            var maxNorm = c.norm(dim: 0).max();
            _colorMatrix = (c / maxNorm).to(Device).DetachFromDisposeScope();
        }
    }

    public double DecayPower { get; }
    public double InitStd { get; }

    /// <summary>The optimised spectrum [1, 3, H, W/2+1, 2] (real and imaginary parts).</summary>
    public Parameter Spectrum { get; }

    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["decayPower"] = DecayPower.ToString("R", CultureInfo.InvariantCulture),
        ["initStd"] = InitStd.ToString("R", CultureInfo.InvariantCulture),
    };

    protected override void InitializeCore(Generator rng) =>
        Spectrum.copy_(randn(Spectrum.shape, generator: rng) * InitStd);

    public override Tensor Render()
    {
        EnsureInitialized();
        using var scope = NewDisposeScope();
        var spectrum = view_as_complex(Spectrum) * _scale;                       // [1,3,H,W/2+1] complex
        var image = fft.irfft2(spectrum, s: new long[] { Height, Width }) / 4.0;  // Lucid's /4
        var rgb = image.permute(0, 2, 3, 1).matmul(_colorMatrix.t()).permute(0, 3, 1, 2); // decorrelated -> RGB
        return rgb.sigmoid().MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scale.Dispose();
            _colorMatrix.Dispose();
        }
        base.Dispose(disposing);
    }
}
