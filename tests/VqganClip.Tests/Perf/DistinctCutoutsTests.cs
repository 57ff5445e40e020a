using TorchSharp;
using VqganClip.Guidance.Cutouts;
using VqganClip.Models.Clip;
using static TorchSharp.torch;

namespace VqganClip.Tests.Perf;

public class DistinctCutoutsTests
{
    private static Tensor Encoder(Tensor cuts, Tensor w) => cuts.flatten(1).matmul(w).tanh();

    [Fact]
    public void APictureSmallerThanTheCutSizeGivesIdenticalCutoutsEncodedOnceWithTheSameLossAndGradient()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var w = randn(new long[] { 3 * 32 * 32, 7 }, generator: g) * 0.01;
        var target = randn(new long[] { 6, 7 }, generator: g);
        var cutouts = new OriginalCutouts(32, 6);

        var picture = rand(new long[] { 1, 3, 20, 20 }, generator: g).requires_grad_(true);
        using var boxes = new Generator(9);
        var cuts = cutouts.Cut(picture, boxes);
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0 }, DistinctCutouts.FirstEqual(cuts));
        int calls = 0;
        long encodedRows = 0;
        var once = DistinctCutouts.Encode(cuts, c => { calls++; encodedRows = c.shape[0]; return Encoder(c, w); });
        Assert.Equal((1, 1L), (calls, encodedRows));
        (once * target).sum().backward();
        var gradOnce = picture.grad!.clone();

        picture.grad!.zero_();
        var every = Encoder(cutouts.Cut(picture, new Generator(9)), w);
        (every * target).sum().backward();
        Assert.True(once.allclose(every, rtol: 0, atol: 1e-5), $"max diff {(once - every).abs().max().item<float>()}");
        double scale = picture.grad!.abs().max().item<float>();
        Assert.True(scale > 0 && gradOnce.allclose(picture.grad!, rtol: 1e-4, atol: 1e-4 * scale), $"max grad diff {(gradOnce - picture.grad!).abs().max().item<float>()}");
    }

    [Fact]
    public void RepeatsAreFoundWhereverTheyAreAndDistinctCutoutsAreLeftAlone()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var a = rand(new long[] { 1, 3, 8, 8 }, generator: g);
        var b = rand(new long[] { 1, 3, 8, 8 }, generator: g);
        var c = a.clone();
        c[0, 1, 2, 3] = c[0, 1, 2, 3] + 1e-6f;                 // one value apart: not equal
        var cuts = cat(new[] { a, b, a, c, b, b }, 0);
        Assert.Equal(new long[] { 0, 1, 0, 3, 1, 1 }, DistinctCutouts.FirstEqual(cuts));
        Assert.Null(DistinctCutouts.FirstEqual(cat(new[] { a, b, c }, 0)));

        var w = randn(new long[] { 3 * 64, 4 }, generator: g);
        var encoded = DistinctCutouts.Encode(cuts, x => Encoder(x, w));
        Assert.True(encoded.allclose(Encoder(cuts, w), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void TheImageTowersLastBlockForTheClassTokenAloneMatchesTheFullBlock()
    {
        var config = ClipConfig.ViT(embedDim: 32, resolution: 48, layers: 3, width: 128, patch: 12, textWidth: 32, textHeads: 2, textLayers: 1) with { VisionHeads = 4 };
        using var model = new ClipModel(config);
        var vit = (VisionTransformer)model.visual;
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var tokens = randn(new long[] { 5, 17, 128 }, generator: g);
        var full = vit.transformer.forward(tokens)[.., ..1, ..];
        var first = vit.transformer.ForwardFirstToken(tokens);
        Assert.Equal(new long[] { 5, 1, 128 }, first.shape);
        Assert.True(first.allclose(full, rtol: 1e-5, atol: 1e-5), $"max diff {(first - full).abs().max().item<float>()}");
    }
}
