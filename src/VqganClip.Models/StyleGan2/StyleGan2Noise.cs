using static TorchSharp.torch;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// Where the per-layer noise images come from: upstream's <c>randomize_noise=False</c> (the <c>noises.noise_N</c>
/// buffers: <see cref="Fixed"/>), <c>randomize_noise=True</c> (a fresh N(0, 1) draw per call, here from a given
/// generator so that seeded runs repeat: <see cref="Random"/>), or <c>noise=[...]</c> (<see cref="Given"/>).
/// </summary>
public sealed class StyleGan2Noise
{
    private StyleGan2Noise(IReadOnlyList<Tensor>? given, Generator? rng, bool random)
    {
        GivenImages = given;
        Rng = rng;
        IsRandom = random;
    }

    /// <summary>The model's own noise buffers (what StyleCLIP renders with).</summary>
    public static StyleGan2Noise Fixed { get; } = new(null, null, false);

    /// <summary>Fresh noise per call, drawn from <paramref name="rng"/> (the global generator when null).</summary>
    public static StyleGan2Noise Random(Generator? rng = null) => new(null, rng, true);

    /// <summary>One image per layer, [1 or B, 1, res, res] (upstream's order: 4, 8, 8, 16, 16, ...).</summary>
    public static StyleGan2Noise Given(IReadOnlyList<Tensor> images) => new(images ?? throw new ArgumentNullException(nameof(images)), null, false);

    public IReadOnlyList<Tensor>? GivenImages { get; }

    public Generator? Rng { get; }

    public bool IsRandom { get; }
}
