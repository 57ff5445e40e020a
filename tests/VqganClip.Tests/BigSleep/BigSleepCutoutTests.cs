using TorchSharp;
using VqganClip.Guidance.BigSleep;
using VqganClip.Guidance.Cutouts;
using static TorchSharp.torch;

namespace VqganClip.Tests.BigSleep;

public class BigSleepCutoutTests
{
    private static Tensor RandomImage(int h, int w, ulong seed)
    {
        using var g = new Generator(seed);
        return rand(new long[] { 1, 3, h, w }, generator: g);
    }

    [Fact]
    public void ShapesAndName()
    {
        using var image = RandomImage(64, 64, 1);
        var cutouts = new BigSleepCutouts(cutSize: 32, count: 12);
        using var g = new Generator(5);
        using var cut = cutouts.Cut(image, g);
        Assert.Equal(new long[] { 12, 3, 32, 32 }, cut.shape);
        Assert.Equal("bigsleep", cutouts.Name);
        Assert.Equal(BigSleepDefaults.CutoutCount, new BigSleepCutouts().Count);
        Assert.Equal(224, new BigSleepCutouts().CutSize);
    }

    [Fact]
    public void SizesFollowTheClippedNormalAndBoxesStayInside()
    {
        var cutouts = new BigSleepCutouts(count: 4000);
        using var g = new Generator(11);
        var boxes = cutouts.DrawBoxes(512, 512, g);
        Assert.All(boxes, b =>
        {
            Assert.InRange(b.Size, 256, 486);        // int(512·0.5), int(512·0.95)
            Assert.InRange(b.X, 0, 512 - b.Size);
            Assert.InRange(b.Y, 0, 512 - b.Size);
        });
        // clip(N(0.8, 0.3), 0.5, 0.95): P(at the floor) = Φ(−1) ≈ 0.159, P(at the ceiling) = 1 − Φ(0.5) ≈ 0.309
        double atMin = boxes.Count(b => b.Size == 256) / 4000.0, atMax = boxes.Count(b => b.Size == 486) / 4000.0;
        Assert.InRange(atMin, 0.13, 0.19);
        Assert.InRange(atMax, 0.28, 0.34);
        // uniform offsets reach both ends of their range
        Assert.Contains(boxes, b => b.X == 0);
        Assert.Contains(boxes, b => b.X == 512 - b.Size);
        Assert.Contains(boxes, b => b.Y == 512 - b.Size);
    }

    [Fact]
    public void CutoutSideIsTheFloat32ProductTruncated()
    {
        Assert.Equal(256, BigSleepCutouts.CutoutSide(512, 0.5f));
        Assert.Equal(486, BigSleepCutouts.CutoutSide(512, 0.95f));
        Assert.Equal(409, BigSleepCutouts.CutoutSide(512, 0.8f));   // 409.6
        Assert.Equal(121, BigSleepCutouts.CutoutSide(128, 0.95f));  // 121.6
    }

    [Fact]
    public void SameSeedSameCutoutsOtherSeedOtherCutouts()
    {
        using var image = RandomImage(96, 96, 2);
        var cutouts = new BigSleepCutouts(cutSize: 24, count: 16);
        using var g1 = new Generator(42);
        using var g2 = new Generator(42);
        using var g3 = new Generator(43);
        using var a = cutouts.Cut(image, g1);
        using var b = cutouts.Cut(image, g2);
        using var c = cutouts.Cut(image, g3);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
        // and the generator moves on: the next draw differs from the first
        using var d = cutouts.Cut(image, g1);
        Assert.False(a.eq(d).all().item<bool>());
    }

    [Fact]
    public void NearestTakesPixelsOfTheSourceAtFloorOfIndexTimesScale()
    {
        using var image = RandomImage(80, 80, 3);
        const int cutSize = 32;
        var cutouts = new BigSleepCutouts(cutSize: cutSize, count: 6);
        using var g = new Generator(9);
        var boxes = cutouts.DrawBoxes(80, 80, g);
        using var cut = cutouts.Cut(image, boxes);
        var src = image.data<float>().ToArray();
        var dst = cut.data<float>().ToArray();
        for (int n = 0; n < boxes.Count; n++)
        {
            var b = boxes[n];
            float scale = (float)b.Size / cutSize;   // PyTorch's nearest: min(⌊i·(in/out)⌋, in − 1), scale in float32
            for (int ch = 0; ch < 3; ch++)
                for (int r = 0; r < cutSize; r++)
                    for (int col = 0; col < cutSize; col++)
                    {
                        int sr = Math.Min((int)MathF.Floor(r * scale), b.Size - 1);
                        int sc = Math.Min((int)MathF.Floor(col * scale), b.Size - 1);
                        float expected = src[(ch * 80 + b.Y + sr) * 80 + b.X + sc];
                        float actual = dst[((n * 3 + ch) * cutSize + r) * cutSize + col];
                        Assert.True(expected == actual, $"cutout {n} {b}, channel {ch}, ({r}, {col}): {actual} vs {expected}");
                    }
        }
    }

    [Fact]
    public void BilinearBlendsPixelsAndLanczosIsSmooth()
    {
        // a smooth picture: bilinear and Lanczos+bicubic agree closely; nearest on noise differs from bilinear
        var y = arange(120, dtype: ScalarType.Float32).view(1, 1, 120, 1);
        var x = arange(120, dtype: ScalarType.Float32).view(1, 1, 1, 120);
        using var smooth = ((x * 0.05).sin() * (y * 0.04).cos() * 0.4 + 0.5).expand(1, 3, 120, 120).contiguous();
        var boxes = new[] { new CutoutBox(10, 20, 90), new CutoutBox(0, 0, 120) };
        using var bilinear = new BigSleepCutouts(32, 2, BigSleepResize.Bilinear).Cut(smooth, boxes);
        using var lanczos = new BigSleepCutouts(32, 2, BigSleepResize.Lanczos).Cut(smooth, boxes);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, lanczos.shape);
        double diff = (bilinear - lanczos).abs().mean().item<float>();
        Assert.True(diff < 0.01, $"mean |bilinear − lanczos| = {diff}");

        using var noise = RandomImage(64, 64, 4);
        var box = new[] { new CutoutBox(5, 7, 50) };
        using var n = new BigSleepCutouts(32, 1, BigSleepResize.Nearest).Cut(noise, box);
        using var bl = new BigSleepCutouts(32, 1, BigSleepResize.Bilinear).Cut(noise, box);
        Assert.True((n - bl).abs().mean().item<float>() > 0.05);
    }

    [Fact]
    public void LanczosRampAndKernel()
    {
        // ramp(0.5, 3): n = ⌈3/0.5 + 1⌉ = 7 → 0, 0.5, …, 3 mirrored, ends dropped: −2.5 … 2.5
        var ramp = LanczosResample.Ramp(0.5, 3);
        Assert.Equal(Enumerable.Range(-5, 11).Select(i => i * 0.5).ToArray(), ramp);
        using var like = zeros(1);
        using var k = LanczosResample.Kernel(0.5, like);
        Assert.Equal(11, k.shape[0]);
        Assert.Equal(1.0, k.sum().item<float>(), 5);
        // upsampling skips the filter: plain bicubic with align_corners=True
        using var img = RandomImage(10, 10, 5);
        using var up = LanczosResample.Resample(img, 16, 16);
        using var bicubic = nn.functional.interpolate(img, new long[] { 16, 16 }, mode: InterpolationMode.Bicubic, align_corners: true);
        Assert.True(up.eq(bicubic).all().item<bool>());
    }

    [Fact]
    public void CenterBiasGathersOffsetsAroundTheMiddle()
    {
        using var g1 = new Generator(21);
        using var g2 = new Generator(21);
        var uniform = new BigSleepCutouts(count: 3000).DrawBoxes(512, 512, g1);
        var biased = new BigSleepCutouts(count: 3000, centerBias: true).DrawBoxes(512, 512, g2);
        static double Central(IReadOnlyList<CutoutBox> boxes) => boxes.Count(b =>
        {
            double m = 512 - b.Size;
            return b.X >= m / 4 && b.X <= 3 * m / 4;
        }) / (double)boxes.Count;
        // uniform: ≈ 0.5 in the middle half; N(m/2, m/4): ≈ P(|z| < 1) = 0.68 (plus redraws)
        Assert.InRange(Central(uniform), 0.45, 0.56);
        Assert.InRange(Central(biased), 0.62, 0.76);
        Assert.All(biased, b => Assert.InRange(b.Y, 0, 512 - b.Size));
    }

    [Fact]
    public void CutoutsCarryGradientToThePicture()
    {
        using var scope = NewDisposeScope();
        var image = RandomImage(48, 48, 6).requires_grad_(true);
        var cut = new BigSleepCutouts(16, 4).Cut(image, new[] { new CutoutBox(0, 0, 24), new CutoutBox(24, 24, 24), new CutoutBox(0, 24, 24), new CutoutBox(24, 0, 24) });
        cut.sum().backward();
        // nearest 24 → 16 reads 16 of each crop's 24 rows and columns: gradient 1 at those pixels, 0 elsewhere
        var grad = image.grad!;
        Assert.Equal(4 * 16 * 16 * 3, grad.sum().item<float>());
        Assert.True(grad.eq(0).logical_or(grad.eq(1)).all().item<bool>());
    }
}
