using VqganClip.Models.Vqgan;

namespace VqganClip.Training;

/// <summary>
/// The shipped clipart VQGAN: taming's VQModel scaled down for 64x64 scenes on a CPU.
/// f4 (ch_mult [1, 2, 2]): a 16x16 latent, because flat colour regions with antialiased edges need more than
/// an 8x8 grid of 512 codes to reach 28 dB; ch 32 (the smallest width taming's GroupNorm(32) allows) so the
/// 64x64 levels, which dominate the cost, stay cheap; attention at the 16x16 level, as taming puts it at its
/// lowest resolution; 512 codes of 32 dimensions.
/// </summary>
public static class ClipartVqganArchitecture
{
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
