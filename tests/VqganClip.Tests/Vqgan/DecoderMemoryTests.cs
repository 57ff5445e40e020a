using VqganClip.Guidance;
using VqganClip.Models.Vqgan;

namespace VqganClip.Tests.Vqgan;

public class DecoderMemoryTests
{
    /// <summary>The shipped clipart VQGAN's decoder (data/clipart-vqgan.yaml).</summary>
    private static readonly VqganDdConfig Shipped = new()
    {
        ZChannels = 64, Resolution = 64, Ch = 32, ChMult = [1, 2, 2], NumResBlocks = 1, AttnResolutions = [16],
    };

    [Fact]
    public void AStepOfTheShippedDecoderAt64x64IsCountedTensorByTensor()
    {
        // values kept (channels x pixels): conv_in 64x256 + mid 14x64x256 + mid attention 7x64x256 + 3x256x256,
        // level 2: 2 blocks (7x64x256 each, each followed by attention 7x64x256 + 3x256x256) + upsample 2x64x1024,
        // level 1: 2 blocks 7x64x1024 + upsample 2x64x4096, level 0: 2 blocks 7x32x4096, norm_out and swish 2x32x4096,
        // conv_out 3x4096 = 5,091,328 values; backward: 3 x the largest (256x256 = 262,144); 4 bytes each.
        Assert.Equal((5_091_328 + 3 * 262_144) * 4.0, DecoderMemory.StepBytes(Shipped, 64, 64));
    }

    [Fact]
    public void LargePicturesAreDominatedByTheLatentsAttentionMatrices()
    {
        // 1024x1024 -> a 256x256 latent: 65,536 tokens, three 65,536 x 65,536 float matrices per attention block
        // (mid + 2 at the latent level), and backward's gradients of three more: 12 matrices of 16 GiB
        double attention = 12 * Math.Pow(65_536, 2) * 4;
        double bytes = DecoderMemory.StepBytes(Shipped, 1024, 1024);
        Assert.InRange(bytes, attention, attention * 1.03);   // the rest (the blocks' 1024x1024x32 activations...) adds 2%
    }

    [Fact]
    public void ASizeThatDoesNotFitSaysTheLargestThatDoes()
    {
        // the pixels generator keeps 16 float copies of the 3-channel picture: 192 bytes a pixel;
        // 8 GiB / 192 = 44,739,242 pixels: 6,688 x 6,688 (a multiple of 8) fits, 6,696 x 6,696 does not
        var e = Assert.Throws<PictureTooLargeException>(() => StepMemory.EnsureFits("pixels", 100_000, 100_000, null, 32, 8L << 30));
        Assert.Equal("A 100000x100000 picture needs about 1.7 TB of memory for a step of the pixels generator, and 8.0 GB is available: " +
                     "the largest square picture that fits is about 6688x6688.", e.Message);
        Assert.Equal(6688, e.LargestSide);
        StepMemory.EnsureFits("pixels", 6688, 6688, null, 32, 8L << 30);   // does not throw
    }
}
