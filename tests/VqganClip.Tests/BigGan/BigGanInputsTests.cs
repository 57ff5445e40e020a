using VqganClip.Models.BigGan;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.BigGan;

public class BigGanInputsTests
{
    static BigGanInputsTests() => TransformerTestSupport.EnsureTorch();

    [Fact]
    public void One_hot_class_vectors_and_imagenet_names()
    {
        using var v = BigGanInputs.OneHot([3, 0], 10);
        Assert.Equal(new long[] { 2, 10 }, v.shape);
        Assert.Equal(1.0f, v[0, 3].item<float>());
        Assert.Equal(2.0f, v.sum().item<float>());
        Assert.Equal(1, BigGanInputs.ImageNetClassId("Goldfish"));
        var e = Assert.Throws<ArgumentException>(() => BigGanInputs.ImageNetClassId("shark"));
        Assert.Contains("great white shark", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BigGanInputs.OneHot([10], 10));
    }

    [Fact]
    public void Truncated_noise_stays_within_two_times_the_truncation()
    {
        using var generator = new TorchSharp.torch.Generator(7);
        using var z = BigGanInputs.TruncatedNoise(64, 128, 0.4, generator);
        Assert.Equal(new long[] { 64, 128 }, z.shape);
        Assert.True(z.abs().max().item<float>() <= 0.8f + 1e-6f);
    }
}
