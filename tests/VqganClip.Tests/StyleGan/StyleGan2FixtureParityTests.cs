using VqganClip.Models.StyleGan2;
using VqganClip.Tests.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static VqganClip.Tests.StyleGan.StyleGanTestSupport;

namespace VqganClip.Tests.StyleGan;

/// <summary>stylegan2-tiny: rosinality's Generator (mapping, W+ renders, noise, truncation, mixing, ∂/∂W+, StyleSpace) against upstream's outputs.</summary>
public class StyleGan2FixtureParityTests(ITestOutputHelper output)
{
    static StyleGan2FixtureParityTests() => TransformerTestSupport.EnsureTorch();

    [Fact]
    public void Config_is_inferred_from_the_weights()
    {
        using var model = LoadTiny();
        var config = TransformerTestSupport.Manifest(Tiny)["config"]!;
        Assert.Equal(config["size"]!.GetValue<int>(), model.Config.Size);
        Assert.Equal(config["style_dim"]!.GetValue<int>(), model.Config.StyleDim);
        Assert.Equal(config["n_mlp"]!.GetValue<int>(), model.Config.NMlp);
        Assert.Equal(config["n_latent"]!.GetValue<int>(), model.NLatent);
        Assert.Equal(config["num_layers"]!.GetValue<int>(), model.Config.NumLayers);
        var channels = config["channels_used"]!.AsObject().Select(kv => kv.Value!.GetValue<int>()).ToArray();
        Assert.Equal(channels, model.Config.Channels);
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Mapping_and_mean_latent_match_upstream()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        AssertClose(io["outputs.w"], model.Map(io["inputs.z"]), "w", output);
        AssertClose(io["outputs.latent_avg"], model.MeanLatent(io["inputs.z_avg"]).squeeze(0), "latent_avg", output);
    }

    [Fact]
    public void W_plus_render_with_the_fixed_noise_buffers_matches_upstream()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        AssertClose(io["outputs.img_wplus"], model.Synthesize(io["inputs.wplus"], StyleGan2Noise.Fixed), "img_wplus", output);
    }

    [Fact]
    public void W_plus_render_with_given_noise_matches_upstream()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var noise = Enumerable.Range(0, model.Config.NumLayers).Select(i => io[$"inputs.noise.{i}"]).ToList();
        AssertClose(io["outputs.img_wplus_given_noise"], model.Synthesize(io["inputs.wplus"], StyleGan2Noise.Given(noise)), "img_wplus_given_noise", output);
    }

    [Fact]
    public void Truncated_render_from_z_matches_upstream()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (image, latent) = model.Forward([io["inputs.z"]], StyleGan2Noise.Fixed, truncation: 0.7, truncationLatent: io["outputs.latent_avg"]);
        AssertClose(io["outputs.img_z_trunc07"], image, "img_z_trunc07", output);
        Assert.Equal(new long[] { 2, model.NLatent, model.StyleDim }, latent.shape);
    }

    [Fact]
    public void Style_mixing_at_inject_index_3_matches_upstream()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (image, latent) = model.Forward([io["inputs.z"], io["inputs.z2"]], StyleGan2Noise.Fixed, injectIndex: 3);
        AssertClose(io["outputs.img_mix_inject3"], image, "img_mix_inject3", output);
        var w2 = model.Map(io["inputs.z2"]);
        AssertClose(w2, latent.select(1, 3), "mixed row 3 is w(z2)");
    }

    /// <summary>
    /// The fixture's sample 0 sits on a kink (by the layers it moves, leaky ReLU's at a pre-activation of convs.3, 16 px):
    /// styles that differ in their last bit (2e-7, the batch of two against that sample alone) move the W+ gradient's
    /// rows 0-4 by up to 0.2, all of them exact float32 evaluations, and which side a CPU lands on depends on its
    /// kernels' summation order (environment.md). So the gradient is taken both ways, as the batch and sample by sample,
    /// and one of the two must match upstream's to the manifest's tolerance; a wrong backward matches neither.
    /// </summary>
    [Fact]
    public void Gradient_wrt_w_plus_matches_upstream()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        var readout = io["inputs.readout"];
        Tensor Gradient(Tensor wplusIn, Tensor readoutIn)
        {
            var wplus = wplusIn.clone().requires_grad_(true);
            (model.Synthesize(wplus, StyleGan2Noise.Fixed) * readoutIn).sum().backward();
            return wplus.grad!;
        }
        var batch = Gradient(io["inputs.wplus"], readout);
        var alone = cat(Enumerable.Range(0, (int)readout.shape[0])
            .Select(i => Gradient(io["inputs.wplus"].narrow(0, i, 1), readout.narrow(0, i, 1))).ToArray(), 0);
        var expected = io["outputs.grad_wplus"];
        bool batchMatches = TransformerTestSupport.IsClose(expected, batch, Tolerance);
        bool aloneMatches = TransformerTestSupport.IsClose(expected, alone, Tolerance);
        output.WriteLine($"batch {(batchMatches ? "matches" : "does not match")}; sample by sample {(aloneMatches ? "matches" : "does not match")}");
        if (!batchMatches && !aloneMatches)
            AssertClose(expected, batch, "grad_wplus (the batch; sample by sample did not match either)", output);
    }

    [Fact]
    public void StyleSpace_vectors_match_upstream_and_render_the_same_image()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var styles = model.StyleSpace(io["inputs.wplus"]);
        Assert.Equal(model.StyleCount, styles.Count);
        Assert.Equal(io.Keys.Count(k => k.StartsWith("outputs.stylespace.", StringComparison.Ordinal)), styles.Count);
        for (int i = 0; i < styles.Count; i++)
            AssertClose(io[$"outputs.stylespace.{i:00}"], styles[i], $"stylespace.{i:00}", output);
        AssertClose(io["outputs.img_wplus"], model.SynthesizeFromStyles(styles, StyleGan2Noise.Fixed), "img from StyleSpace", output);
    }

    [Theory]
    [InlineData("up2_pad21", 2, 1, 2, 1, 4.0)]
    [InlineData("down2_pad11", 1, 2, 1, 1, 1.0)]
    [InlineData("blur_pad21", 1, 1, 2, 1, 1.0)]
    public void Upfirdn2d_cases_match_upstream(string name, int up, int down, int pad0, int pad1, double kernelScale)
    {
        using var io = Io();
        using var scope = NewDisposeScope();
        var result = Upfirdn2d.Apply(io["upfirdn.input"], io["upfirdn.kernel"] * kernelScale, up, down, (pad0, pad1));
        AssertClose(io[$"upfirdn.{name}"], result, $"upfirdn.{name}", output);
    }

    [Fact]
    public void Random_noise_is_seeded_and_differs_from_the_buffers()
    {
        using var model = LoadTiny();
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var wplus = io["inputs.wplus"];
        var a = model.Synthesize(wplus, StyleGan2Noise.Random(new Generator(7)));
        var b = model.Synthesize(wplus, StyleGan2Noise.Random(new Generator(7)));
        var c = model.Synthesize(wplus, StyleGan2Noise.Fixed);
        Assert.Equal(0f, (a - b).abs().max().item<float>());
        Assert.True((a - c).abs().max().item<float>() > 1e-4, "random noise rendered the same picture as the noise buffers");
    }
}
