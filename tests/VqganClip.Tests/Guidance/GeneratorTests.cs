using TorchSharp;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Optimization;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

/// <summary>Generators without CLIP: shapes, ranges, gradients, state round trips, and that each can be optimised towards a target.</summary>
public class GeneratorTests
{
    public static TheoryData<string> PixelFamily => new() { "pixels-sigmoid", "pixels-clamp", "fourier", "strokes" };

    private static IImageGenerator Make(string kind, int w = 24, int h = 20) => kind switch
    {
        "pixels-sigmoid" => new PixelGenerator(w, h),
        "pixels-clamp" => new PixelGenerator(w, h, PixelParameterization.Clamp),
        "fourier" => new FourierGenerator(w, h),
        "strokes" => new StrokeGenerator(w, h, strokes: 12),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(PixelFamily))]
    public void RendersInRangeAndGradientsReachEveryParameter(string kind)
    {
        using var g = Make(kind);
        using var rng = new Generator(1);
        g.Initialize(rng);
        using var img = g.Render();
        Assert.Equal(new long[] { 1, 3, 20, 24 }, img.shape);
        Assert.True(img.min().item<float>() >= 0 && img.max().item<float>() <= 1);
        using var w = randn(img.shape, generator: rng);
        (img * w).sum().backward();
        foreach (var p in g.Parameters)
        {
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{kind}: no gradient on a parameter of shape [{string.Join(",", p.shape)}]");
        }
    }

    [Theory]
    [MemberData(nameof(PixelFamily))]
    public void OptimisingTowardsATargetPictureLowersTheError(string kind)
    {
        using var g = Make(kind);
        using var rng = new Generator(2);
        g.Initialize(rng);
        using var target = rand(new long[] { 1, 3, 20, 24 }, generator: rng);
        using var opt = OptimizerFactory.Create("Adam", g.Parameters, 0.1);
        double first = 0, last = 0;
        for (int i = 0; i < 40; i++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.mse_loss(g.Render(), target);
            if (i == 0) first = loss.item<float>();
            last = loss.item<float>();
            loss.backward();
            opt.step();
            g.PostStep();
        }
        Assert.True(last < 0.8 * first, $"{kind}: loss {first} -> {last}");
    }

    [Theory]
    [MemberData(nameof(PixelFamily))]
    public void StateRoundTripsThroughTheFactory(string kind)
    {
        using var g = Make(kind);
        using var rng = new Generator(3);
        g.Initialize(rng);
        using var sd = g.StateDict();
        using var copy = GeneratorFactory.Create(GeneratorSpec.Of(g));
        Assert.False(copy.IsInitialized);
        copy.LoadState(sd);
        using var a = g.Render();
        using var b = copy.Render();
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void MismatchedStateIsRejectedWithAClearMessage()
    {
        using var g = new PixelGenerator(8, 8);
        using var other = new PixelGenerator(9, 8);
        using var rng = new Generator(4);
        other.Initialize(rng);
        using var sd = other.StateDict();
        var e = Assert.Throws<InvalidDataException>(() => g.LoadState(sd));
        Assert.Contains("'pixels'", e.Message);
        Assert.Contains("[1, 3, 8, 9]", e.Message);
    }

    [Fact]
    public void RenderBeforeInitializeSaysWhatToDo()
    {
        using var g = new FourierGenerator(8, 8);
        var e = Assert.Throws<InvalidOperationException>(() => g.Render());
        Assert.Contains("Initialize", e.Message);
    }
}
