using TorchSharp;
using VqganClip.Guidance.Autograd;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>How raw pixel parameters become colours in [0,1].</summary>
public enum PixelParameterization
{
    /// <summary>colour = sigmoid(p): always in range, gradients shrink near black/white.</summary>
    Sigmoid,
    /// <summary>colour = clamp(p, 0, 1) with the original's gradient-friendly clamp; p is clamped back after each step.</summary>
    Clamp,
}

/// <summary>
/// The simplest generator: one parameter per pixel and channel. Shows what CLIP guidance does with no image prior
/// at all (expect adversarial-looking noise); the contrast with VQGAN/Fourier/strokes is the lesson.
/// </summary>
public sealed class PixelGenerator : ImageGeneratorBase
{
    private readonly Tensor? _initImage;

    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="parameterization">Sigmoid (default) or clamp.</param>
    /// <param name="initImage">Optional start image [1,3,h,w] in [0,1] (resized); otherwise random noise.</param>
    /// <param name="device">Device for the parameters (default CPU).</param>
    public PixelGenerator(int width, int height, PixelParameterization parameterization = PixelParameterization.Sigmoid,
        Tensor? initImage = null, Device? device = null)
        : base("pixels", width, height, device)
    {
        Parameterization = parameterization;
        _initImage = initImage?.detach().to_type(ScalarType.Float32).to(Device).clone();
        Pixels = AddParameter("pixels", 1, 3, height, width);
    }

    public PixelParameterization Parameterization { get; }

    /// <summary>The raw parameters [1,3,H,W] (logits for sigmoid, colours for clamp).</summary>
    public Parameter Pixels { get; }

    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["parameterization"] = Parameterization.ToString(),
    };

    protected override void InitializeCore(Generator rng)
    {
        Tensor start;
        if (_initImage is not null)
        {
            var img = nn.functional.interpolate(_initImage, new long[] { Height, Width }, mode: InterpolationMode.Bicubic,
                align_corners: false, antialias: true).clamp(0, 1);
            start = Parameterization == PixelParameterization.Sigmoid ? img.clamp(1e-3, 1 - 1e-3).logit() : img;
        }
        else
        {
            start = Parameterization == PixelParameterization.Sigmoid
                ? randn(new long[] { 1, 3, Height, Width }, generator: rng)
                : rand(new long[] { 1, 3, Height, Width }, generator: rng);
        }
        Pixels.copy_(start);
    }

    public override Tensor Render()
    {
        EnsureInitialized();
        return Parameterization == PixelParameterization.Sigmoid
            ? Pixels.sigmoid()
            : GradientTricks.ClampWithGrad(Pixels, 0, 1);
    }

    public override void PostStep()
    {
        if (Parameterization != PixelParameterization.Clamp) return;
        using var _ = no_grad();
        Pixels.clamp_(0, 1);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _initImage?.Dispose();
        base.Dispose(disposing);
    }
}
