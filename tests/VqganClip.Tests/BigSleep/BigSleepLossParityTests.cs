using VqganClip.Guidance.BigSleep;
using VqganClip.Models.IO;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.BigSleep;

/// <summary>
/// lat_loss and cls_loss against lucidrains/big-sleep's <c>BigSleep.forward</c> as recorded in the
/// bigsleep-biggan-tiny fixture: the losses_&lt;tag&gt;.cls tensors are the raw class logits, the loss sees
/// sigmoid(cls), and grad_cls is the gradient of lat_loss + cls_loss through that sigmoid.
/// </summary>
public class BigSleepLossParityTests
{
    private const string Name = "bigsleep-biggan-tiny";

    static BigSleepLossParityTests() => EnsureTorch();

    [Theory]
    [InlineData("tiny", 7, 16, 10)]
    [InlineData("real512", 15, 128, 1000)]
    public void LossesAndGradientsMatchUpstream(string tag, int numLatents, int zDim, int numClasses)
    {
        var tolerance = Tolerance(Name);
        using var io = SafeTensors.Read(Fixture(Name, "io.safetensors"));
        using var scope = NewDisposeScope();
        var latents = io[$"losses_{tag}.latents"].clone().requires_grad_(true);
        var cls = io[$"losses_{tag}.cls"].clone().requires_grad_(true);
        Assert.Equal(new long[] { numLatents, zDim }, latents.shape);
        Assert.Equal(new long[] { numLatents, numClasses }, cls.shape);

        var latLoss = BigSleepLosses.LatentLoss(latents);
        var clsLoss = BigSleepLosses.ClassLoss(BigSleepLosses.ClassVectors(cls));
        Assert.Equal(0, latLoss.dim());
        AssertClose(io[$"losses_{tag}.lat_loss"], latLoss.reshape(1), $"{tag}: lat_loss", tolerance);
        AssertClose(io[$"losses_{tag}.cls_loss"], clsLoss.reshape(1), $"{tag}: cls_loss", tolerance);

        (latLoss + clsLoss).backward();
        AssertClose(io[$"losses_{tag}.grad_latents"], latents.grad!, $"{tag}: d/d latents", tolerance);
        AssertClose(io[$"losses_{tag}.grad_cls"], cls.grad!, $"{tag}: d/d cls", tolerance);
    }

    [Fact]
    public void TheKurtosisAndSkewTermsMatter()
    {
        // the fixture's lat_loss is not matched by the first three terms alone (the comparison can fail)
        using var io = SafeTensors.Read(Fixture(Name, "io.safetensors"));
        using var scope = NewDisposeScope();
        var latents = io["losses_tiny.latents"];
        var firstThree = (1 - latents.std(1)).abs().mean() + latents.mean(new long[] { 1 }).abs().mean()
                         + 4 * maximum(latents.square().mean(), tensor(1f));
        double reference = io["losses_tiny.lat_loss"].item<float>();
        Assert.True(Math.Abs(firstThree.item<float>() - reference) > 1e-2);
        // and a biased std in the first term would be off too
        var biased = (1 - latents.std(1, unbiased: false)).abs().mean() + latents.mean(new long[] { 1 }).abs().mean()
                     + 4 * maximum(latents.square().mean(), tensor(1f));
        double withBiased = (BigSleepLosses.LatentLoss(latents) - firstThree + biased).item<float>();
        Assert.True(Math.Abs(withBiased - reference) > 1e-3, $"{withBiased} vs {reference}");
    }

    [Fact]
    public void LatentLossByHand()
    {
        // one row [1, -1, 1, -1] and one row [0, 0, 0, 4]; L = 2, D = 4
        using var scope = NewDisposeScope();
        var lat = tensor(new float[] { 1, -1, 1, -1, 0, 0, 0, 4 }, new long[] { 2, 4 });
        // row 0: mean 0, unbiased std sqrt(4/3); biased var 1, z = ±1: skew 0, kurtosis 1 - 3 = -2
        // row 1: mean 1, diffs (-1,-1,-1,3), unbiased std sqrt(12/3) = 2; biased var 3, z = diffs/sqrt(3):
        //        skew = (−3 + 27)/4 / 3^1.5 = 6/5.196, kurtosis = (3 + 81)/4 / 9 − 3 = 21/9 − 3
        double std0 = Math.Sqrt(4.0 / 3), std1 = 2;
        double expected = (Math.Abs(1 - std0) + Math.Abs(1 - std1)) / 2
                          + (0 + 1) / 2.0
                          + 4 * Math.Max((4 + 16) / 8.0, 1)
                          + (Math.Abs(-2.0) + 0) / 2
                          + (Math.Abs(21.0 / 9 - 3) + 6 / Math.Pow(3, 1.5)) / 2;
        Assert.Equal(expected, BigSleepLosses.LatentLoss(lat).item<float>(), 5);
        // mean square below the threshold: the 4·max(·, 1) term is 4
        var small = lat * 0.1f;
        double smallExpected = (Math.Abs(1 - 0.1 * std0) + Math.Abs(1 - 0.1 * std1)) / 2 + 0.1 / 2 + 4
                               + 2.0 / 2 + (Math.Abs(21.0 / 9 - 3) + 6 / Math.Pow(3, 1.5)) / 2;
        Assert.Equal(smallExpected, BigSleepLosses.LatentLoss(small).item<float>(), 5);
    }

    [Fact]
    public void ClassLossKeepsOnlyTheLargestClassPerRowFree()
    {
        using var scope = NewDisposeScope();
        var classes = tensor(new float[] { 0.9f, 0.1f, 0.2f, 0.0f, 0.3f, 0.05f }, new long[] { 2, 3 });
        // smallest two per row: (0.1, 0.2) and (0.0, 0.05); ((50·v)²).mean() over the 4 values
        double expected = (Math.Pow(5, 2) + Math.Pow(10, 2) + 0 + Math.Pow(2.5, 2)) / 4;
        Assert.Equal(expected, BigSleepLosses.ClassLoss(classes).item<float>(), 3);
    }

    [Fact]
    public void SimilarityLossIsMinusHundredCosineAndPlusForMinPrompts()
    {
        using var scope = NewDisposeScope();
        var text = tensor(new float[] { 1, 2 }, new long[] { 1, 2 });
        var images = tensor(new float[] { 3, 0, 0, 0.5f }, new long[] { 2, 2 });
        double mean = (1 / Math.Sqrt(5) + 2 / Math.Sqrt(5)) / 2;
        Assert.Equal(-100 * mean, BigSleepLosses.SimilarityLoss(text, images).item<float>(), 3);
        Assert.Equal(100 * mean, BigSleepLosses.SimilarityLoss(text, images, avoid: true).item<float>(), 3);
    }
}
