using VqganClip.Guidance.Generators;
using VqganClip.Models.BigGan;
using VqganClip.Models.Clip;
using VqganClip.Models.Vqgan;

namespace VqganClip.Tests.Guidance;

/// <summary>The tiny fixture CLIP (32px, embed 32), VQGAN (f16) and BigGAN-deep (32px), loaded once for a test class.</summary>
public sealed class TinyModels : IDisposable
{
    public static string ClipPath => TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors");
    public static string VqganPath => TestSetup.Fixtures("vqgan-f16-tiny", "model.safetensors");
    public static string VqganConfigPath => TestSetup.Fixtures("vqgan-f16-tiny", "model.yaml");

    public ClipModel Clip { get; } = ClipModel.Load(ClipPath);
    private readonly Lazy<VqganModel> _vqgan = new(() => VqganModel.Load(VqganPath, VqganConfigPath));
    public VqganModel Vqgan => _vqgan.Value;
    private readonly Lazy<BigGanModel> _biggan = new(() => BigGanModel.Load(BigGanPath, TestSetup.Fixtures("biggan-deep-tiny", "config.json")));
    /// <summary>The bigsleep-biggan-tiny fixture's BigGAN-deep (32x32, 10 classes, 7 latent rows).</summary>
    public BigGanModel BigGan => _biggan.Value;
    public static string BigGanPath => TestSetup.Fixtures("bigsleep-biggan-tiny", "model.safetensors");

    /// <summary>A small generator of each kind: vqgan 64x64 (4x4 latent), the others 40x40.</summary>
    public IImageGenerator Make(string kind) => kind switch
    {
        "vqgan" => new VqganLatentGenerator(Vqgan, 64, 64),
        "pixels" => new PixelGenerator(40, 40),
        "fourier" => new FourierGenerator(40, 40),
        "strokes" => new StrokeGenerator(40, 40, strokes: 12, samplesPerStroke: 8),
        "biggan" => new BigSleepGenerator(BigGan),
        _ => throw new ArgumentException(kind),
    };

    public void Dispose()
    {
        Clip.Dispose();
        if (_vqgan.IsValueCreated) _vqgan.Value.Dispose();
        if (_biggan.IsValueCreated) _biggan.Value.Dispose();
    }
}
