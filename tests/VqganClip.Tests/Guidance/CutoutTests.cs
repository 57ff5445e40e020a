using TorchSharp;
using VqganClip.Guidance.Cutouts;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

public class CutoutTests
{
    private static Tensor RandomImage(int h, int w, long seed)
    {
        using var g = new Generator((ulong)seed);
        return rand(new long[] { 1, 3, h, w }, generator: g);
    }

    /// <summary>A smooth picture (a few low-frequency waves) where any two sensible resamplers agree closely.</summary>
    private static Tensor SmoothImage(int h, int w)
    {
        var y = arange(h, dtype: ScalarType.Float32).view(1, 1, h, 1);
        var x = arange(w, dtype: ScalarType.Float32).view(1, 1, 1, w);
        var c = arange(3, dtype: ScalarType.Float32).view(1, 3, 1, 1);
        return ((x * (0.05 + 0.01 * c)).sin() * (y * 0.04 + c).cos() * 0.4 + 0.5).expand(1, 3, h, w).contiguous();
    }

    [Fact]
    public void WithCount_changes_only_the_count_of_each_built_in_cutouts()
    {
        var original = (OriginalCutouts)new OriginalCutouts(32, 8, cutPower: 2.5).WithCount(20);
        Assert.Equal((32, 20, 2.5), (original.CutSize, original.Count, original.CutPower));

        var augment = new AugmentOptions { FlipProbability = 0.25 };
        var augmented = (AugmentedCutouts)new AugmentedCutouts(24, 4, 0.5, augment).WithCount(9);
        Assert.Equal((24, 9, 0.5), (augmented.CutSize, augmented.Count, augmented.CutPower));
        Assert.Same(augment, augmented.Options);

        var bigSleep = (VqganClip.Guidance.BigSleep.BigSleepCutouts)new VqganClip.Guidance.BigSleep.BigSleepCutouts(
            16, 4, VqganClip.Guidance.BigSleep.BigSleepResize.Lanczos, centerBias: true, centerFocus: 3).WithCount(12);
        Assert.Equal((16, 12, VqganClip.Guidance.BigSleep.BigSleepResize.Lanczos, true, 3.0),
            (bigSleep.CutSize, bigSleep.Count, bigSleep.Resize, bigSleep.CenterBias, bigSleep.CenterFocus));

        ICutouts same = original;
        Assert.Same(original, same.WithCount(20));
    }

    [Fact]
    public void BatchedMatchesPerCutoutReferenceWhenNoPrefilterIsNeeded()
    {
        // Picture 64x48, cut size 32: every crop shrinks by 1x..1.5x, so both paths are plain bilinear at the same points.
        using var image = RandomImage(48, 64, 1);
        var cutouts = new OriginalCutouts(32, 16, cutPower: 1.0);
        using var g = new Generator(7);
        var boxes = cutouts.DrawBoxes(48, 64, g);
        using var batched = cutouts.Cut(image, boxes);
        using var reference = cutouts.ReferenceCut(image, boxes);
        Assert.Equal(new long[] { 16, 3, 32, 32 }, batched.shape);
        double maxDiff = (batched - reference).abs().max().item<float>();
        Assert.True(maxDiff < 1e-4, $"max |batched - reference| = {maxDiff}");
    }

    [Fact]
    public void BatchedMatchesAntialiasedReferenceOnSmoothPicturesWhenShrinkingALot()
    {
        // Picture 256x200, cut size 24: crops shrink by up to 8x, so the pooled pre-filter path is used.
        using var image = SmoothImage(200, 256);
        var cutouts = new OriginalCutouts(24, 12, cutPower: 0.5);
        using var g = new Generator(3);
        var boxes = cutouts.DrawBoxes(200, 256, g);
        Assert.Contains(boxes, b => CutoutSampler.PoolFactor((double)b.Size / 24) > 2);
        using var batched = cutouts.Cut(image, boxes);
        using var reference = cutouts.ReferenceCut(image, boxes);
        double mean = (batched - reference).abs().mean().item<float>();
        double max = (batched - reference).abs().max().item<float>();
        Assert.True(mean < 0.01 && max < 0.06, $"mean {mean}, max {max}");

        // and a box shifted by 3 pixels is clearly different: the comparison can tell misplaced crops
        var shifted = boxes.Select(b => b with { X = Math.Max(0, b.X - 3) }).ToList();
        using var wrong = cutouts.Cut(image, shifted);
        Assert.True((wrong - reference).abs().mean().item<float>() > 3 * mean);
    }

    [Fact]
    public void BoxesFollowTheOriginalSizeRule()
    {
        var cutouts = new OriginalCutouts(32, 200, cutPower: 2.0);
        using var g = new Generator(11);
        var boxes = cutouts.DrawBoxes(100, 80, g);
        Assert.All(boxes, b =>
        {
            Assert.InRange(b.Size, 32, 80);
            Assert.InRange(b.X, 0, 80 - b.Size);
            Assert.InRange(b.Y, 0, 100 - b.Size);
        });
        // cut_pow 2 favours small crops: the median is well under the midpoint (u^2 has median 0.25)
        var sizes = boxes.Select(b => b.Size).OrderBy(s => s).ToList();
        Assert.True(sizes[100] < 56, $"median size {sizes[100]}");
    }

    [Fact]
    public void SameGeneratorStateSameCutoutsAndGradientsReachThePicture()
    {
        foreach (ICutouts cutouts in new ICutouts[] { new OriginalCutouts(16, 8), new AugmentedCutouts(16, 8) })
        {
            using var image = RandomImage(40, 40, 5).requires_grad_(true);
            using var g1 = new Generator(99);
            using var g2 = new Generator(99);
            using var g3 = new Generator(100);
            using var a = cutouts.Cut(image, g1);
            using var b = cutouts.Cut(image, g2);
            using var c = cutouts.Cut(image, g3);
            Assert.Equal(new long[] { 8, 3, 16, 16 }, a.shape);
            Assert.True(a.eq(b).all().item<bool>(), cutouts.Name);
            Assert.False(a.eq(c).all().item<bool>(), cutouts.Name);
            a.sum().backward();
            Assert.NotNull(image.grad);
            Assert.True(image.grad!.abs().sum().item<float>() > 0, cutouts.Name);
        }
    }

    [Fact]
    public void IdentityAugmentationsReduceToTheOriginalCrops()
    {
        var none = new AugmentOptions { FlipProbability = 0, AffineProbability = 0, PerspectiveProbability = 0, ColorProbability = 0, NoiseFactor = 0 };
        using var image = RandomImage(48, 48, 2);
        using var g1 = new Generator(4);
        using var g2 = new Generator(4);
        var original = new OriginalCutouts(24, 6);
        var augmented = new AugmentedCutouts(24, 6, options: none);
        using var a = original.Cut(image, g1);
        using var b = augmented.Cut(image, g2);
        Assert.True((a - b).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void FlipAugmentationMirrorsTheCrop()
    {
        var flipOnly = new AugmentOptions { FlipProbability = 1, AffineProbability = 0, PerspectiveProbability = 0, ColorProbability = 0, NoiseFactor = 0 };
        using var image = RandomImage(32, 32, 8);
        using var g1 = new Generator(4);
        using var g2 = new Generator(4);
        using var a = new OriginalCutouts(32, 3).Cut(image, g1);
        using var b = new AugmentedCutouts(32, 3, options: flipOnly).Cut(image, g2);
        Assert.True((a.flip(3) - b).abs().max().item<float>() < 1e-5);
    }
}
