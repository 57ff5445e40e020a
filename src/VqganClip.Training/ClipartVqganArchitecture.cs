using VqganClip.Models.Vqgan;

namespace VqganClip.Training;

/// <summary>
/// The shipped clipart VQGAN: taming's VQModel scaled down for 64x64 scenes on a CPU.
/// f4 (ch_mult [1, 2, 2]): a 16x16 latent, because flat colour regions with antialiased edges need more than
/// an 8x8 grid of 512 codes to reach 28 dB; ch 32 (the smallest width taming's GroupNorm(32) allows) so the
/// 64x64 levels, which dominate the cost, stay cheap; attention at the 16x16 level, as taming puts it at its
/// lowest resolution; 512 codes of 32 dimensions.
/// <para><see cref="F8"/> is the coarser first stage of the clipart transformer (VQGAN's second stage): an 8x8
/// latent, so a scene is 64 tokens instead of 256 and the transformer's sequences are four times shorter. It trades
/// reconstruction sharpness (antialiased edges snap to fewer, larger code patches) for that length; the model card
/// gives both figures.</para>
/// </summary>
public static class ClipartVqganArchitecture
{
    /// <summary>The architectures <c>train vqgan --architecture</c> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f4", "f8"];

    /// <summary>The architecture called <paramref name="name"/> (one of <see cref="Names"/>).</summary>
    public static VqganConfig Named(string name) => name switch
    {
        "f4" => Default,
        "f8" => F8,
        _ => throw new ArgumentException($"Unknown clipart VQGAN architecture '{name}' (known: {string.Join(", ", Names)})."),
    };

    /// <summary>f8 (ch_mult [1, 2, 2, 4]): 64x64 scenes to an 8x8 latent; 1024 codes (twice f4's, since each code
    /// now covers an 8x8 patch), attention at the 8x8 level.</summary>
    public static VqganConfig F8 => Default with
    {
        NEmbed = 1024,
        Source = "clipart VQGAN architecture f8",
        DdConfig = Default.DdConfig with { ChMult = [1, 2, 2, 4], AttnResolutions = [8] },
    };

    public static VqganConfig Default => new()
    {
        Target = VqganConfig.VQModelTarget,
        EmbedDim = 32,
        NEmbed = 512,
        Source = "clipart VQGAN architecture",
        DdConfig = new VqganDdConfig
        {
            DoubleZ = false,
            ZChannels = 64,
            Resolution = 64,
            InChannels = 3,
            OutCh = 3,
            Ch = 32,
            ChMult = [1, 2, 2],
            NumResBlocks = 1,
            AttnResolutions = [16],
            Dropout = 0.0,
        },
    };
}
