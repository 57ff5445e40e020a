using VqganClip.Models.BigGan;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.BigGan.BigGanTestSupport;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Tests.BigGan;

/// <summary>The training seam: spectral norm's power iteration and gradients, batch statistics, the eval re-fold.</summary>
public class BigGanTrainingModeTests
{
    static BigGanTrainingModeTests() => TransformerTestSupport.EnsureTorch();

    [Fact]
    public void Training_spectral_norm_runs_one_power_iteration_and_trains_weight_orig_then_eval_refolds()
    {
        using var model = LoadDeep();
        var layer = model.SpectralNormLayers().Single(l => l.Name == "generator.gen_z").Layer;
        using var scope = NewDisposeScope();
        var w = layer.WeightOrig.detach().clone();
        var mat = w.reshape(w.shape[0], -1);
        var v = F.normalize(mat.t().mv(layer.WeightU), dim: 0, eps: layer.Eps);
        var u = F.normalize(mat.mv(v), dim: 0, eps: layer.Eps);
        var expectedWeight = w / u.dot(mat.mv(v));

        foreach (var p in model.parameters()) p.requires_grad = true;
        model.train();
        Assert.All(model.SpectralNormLayers(), l => Assert.True(l.Layer.training));
        var x = randn(2, 32, generator: new TorchSharp.torch.Generator(1));
        var y = layer.forward(x);
        AssertClose(F.linear(x, expectedWeight, layer.Bias!.detach()), y, "training-mode gen_z", (1e-5, 1e-5));
        AssertClose(u, layer.WeightU, "updated u", (1e-6, 1e-6));
        AssertClose(v, layer.WeightV, "updated v", (1e-6, 1e-6));
        y.sum().backward();
        Assert.NotNull(layer.WeightOrig.grad);
        Assert.True(layer.WeightOrig.grad!.abs().sum().item<float>() > 0);

        model.eval();
        AssertClose(expectedWeight, layer.FoldedWeight, "re-folded after eval()", (1e-6, 1e-5));
    }

    [Fact]
    public void Training_batch_norm_uses_batch_statistics()
    {
        using var scope = NewDisposeScope();
        using var norm = new BigGanBatchNorm(3, conditionDim: null, nStats: 51, eps: 1e-4);
        norm.train();
        var x = randn(4, 3, 5, 5, generator: new TorchSharp.torch.Generator(2)) * 3 + 7;
        var y = norm.Forward(x, 1.0);
        AssertClose(zeros(3), y.mean([0L, 2L, 3L]), "batch-normalised mean", (1e-5, 0));
        AssertClose(ones(3), y.var([0L, 2L, 3L], unbiased: false), "batch-normalised variance", (1e-3, 0));
        norm.eval();
        // Eval: the standing statistics (zeros / ones at construction), i.e. x / sqrt(1 + eps).
        AssertClose(x / Math.Sqrt(1 + 1e-4), norm.Forward(x, 1.0), "eval with standing statistics", (1e-5, 1e-5));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Truncation_outside_0_1_is_refused(double truncation)
    {
        using var model = LoadDeep();
        using var z = zeros(1, 16);
        using var c = zeros(1, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(z, c, truncation));
    }
}
