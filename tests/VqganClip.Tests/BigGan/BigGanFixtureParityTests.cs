using VqganClip.Models.BigGan;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.BigGan.BigGanTestSupport;

namespace VqganClip.Tests.BigGan;

/// <summary>biggan-deep-tiny: upstream BigGAN.forward at four truncations, its input gradients, every spectral-norm fold.</summary>
public class BigGanFixtureParityTests
{
    static BigGanFixtureParityTests() => TransformerTestSupport.EnsureTorch();

    [Theory]
    [InlineData("t100")]
    [InlineData("t040")]
    [InlineData("t0345")]
    [InlineData("t0999")]
    public void Images_match_upstream_at_each_truncation(string tag)
    {
        var entry = TransformerTestSupport.Manifest(Deep)["truncations"]![tag]!;
        double truncation = entry["truncation"]!.GetValue<double>();
        double zScale = entry["z_scaled_by"]!.GetValue<double>();
        var modf = entry["modf"]!.AsArray();
        Assert.Equal((modf[0]!.GetValue<double>(), (int)modf[1]!.GetValue<double>()), TruncationStats.Modf(truncation, 51));

        using var model = LoadDeep();
        using var io = Io(Deep);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = model.Forward(io["inputs.z"] * zScale, io["inputs.class_vector"], truncation);
        AssertClose(io[$"outputs.images_{tag}"], image, $"images_{tag}", Tolerance(Deep));
    }

    [Fact]
    public void Gradients_wrt_z_and_class_match_upstream()
    {
        using var model = LoadDeep();
        using var io = Io(Deep);
        using var scope = NewDisposeScope();
        var z = io["inputs.z"].clone().requires_grad_(true);
        var classVector = io["inputs.class_vector"].clone().requires_grad_(true);
        var loss = (model.Forward(z, classVector, 1.0) * io["inputs.readout"]).sum();
        loss.backward();
        AssertClose(io["outputs.grad_z_t100"], z.grad!, "grad_z_t100", Tolerance(Deep));
        AssertClose(io["outputs.grad_class_t100"], classVector.grad!, "grad_class_t100", Tolerance(Deep));
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Every_spectral_norm_sigma_and_folded_weight_match_upstream()
    {
        using var model = LoadDeep();
        using var io = Io(Deep);
        var layers = model.SpectralNormLayers().ToList();
        var expected = io.Keys.Where(k => k.StartsWith("sn.", StringComparison.Ordinal) && k.EndsWith(".sigma", StringComparison.Ordinal))
            .Select(k => k["sn.".Length..^".sigma".Length]).ToHashSet();
        Assert.Equal(expected.OrderBy(n => n, StringComparer.Ordinal), layers.Select(l => l.Name).OrderBy(n => n, StringComparer.Ordinal));
        foreach (var (name, layer) in layers)
        {
            using var sigma = layer.Sigma();
            AssertClose(io[$"sn.{name}.sigma"], sigma, $"{name} sigma", Tolerance(Deep));
            AssertClose(io[$"sn.{name}.weight"], layer.FoldedWeight, $"{name} weight", Tolerance(Deep));
            Assert.False(layer.FoldedWeight.requires_grad);
        }
    }
}
