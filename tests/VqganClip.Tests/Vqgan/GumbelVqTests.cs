using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Tests.Vqgan.VqganTestSupport;

namespace VqganClip.Tests.Vqgan;

/// <summary>
/// GumbelVQ (vqgan_gumbel_f8_8192's kind): no reference fixture, so structure is checked against taming's
/// code and behaviour against the formulas, with a safetensors round trip.
/// </summary>
public sealed class GumbelVqTests
{
    public GumbelVqTests() => EnsureTorch();

    // GumbelVQ needs embed_dim == z_channels (quant_conv's output feeds quantize.proj, built for z_channels).
    private static VqganConfig GumbelConfig() =>
        SmallConfig(VqganKind.GumbelVQ, chMult: new[] { 1, 2 }, attn: new[] { 8 }, resolution: 16, zChannels: 32, embedDim: 32, nEmbed: 48);

    [Fact]
    public void Structure_matches_taming_GumbelVQ()
    {
        using var model = new VqganModel(GumbelConfig());
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        // GumbelQuantize(z_channels, embed_dim, n_embed): proj = Conv2d(num_hiddens, n_embed, 1), embed = Embedding(n_embed, embedding_dim).
        Assert.Equal(new long[] { 48, 32, 1, 1 }, shapes["quantize.proj.weight"]);
        Assert.Equal(new long[] { 48 }, shapes["quantize.proj.bias"]);
        Assert.Equal(new long[] { 48, 32 }, shapes["quantize.embed.weight"]);
        Assert.DoesNotContain("quantize.embedding.weight", shapes.Keys);
        // VQModel's quant_conv (z_channels -> embed_dim) and post_quant_conv (embed_dim -> z_channels) are kept.
        Assert.Equal(new long[] { 32, 32, 1, 1 }, shapes["quant_conv.weight"]);
        Assert.Equal(new long[] { 32, 32, 1, 1 }, shapes["post_quant_conv.weight"]);
        var names = model.named_parameters().Select(p => p.name).ToList();
        // quantize sits between decoder and quant_conv, as GumbelVQ's reassignment of self.quantize keeps it.
        Assert.True(names.IndexOf("quantize.proj.weight") > names.IndexOf("decoder.conv_out.bias"));
        Assert.True(names.IndexOf("quantize.embed.weight") < names.IndexOf("quant_conv.weight"));
        Assert.Same(model.Codebook, model.Codebook);
        Assert.Equal(new long[] { 48, 32 }, model.Codebook.shape);
    }

    [Fact]
    public void Gumbel_config_with_embed_dim_other_than_z_channels_is_refused()
    {
        var bad = SmallConfig(VqganKind.GumbelVQ, zChannels: 32, embedDim: 16);
        var e = Assert.Throws<ArgumentException>(() => new VqganModel(bad));
        Assert.Contains("embed_dim == z_channels", e.Message);
    }

    [Fact]
    public void Hard_quantization_is_argmax_of_the_projection()
    {
        using var model = new VqganModel(GumbelConfig());
        using var image = RandomImage(16, 3);
        using var h = model.Encode(image);
        var gumbel = (GumbelQuantize)model.Quantizer;
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            var logits = nn.functional.conv2d(h, named["quantize.proj.weight"], named["quantize.proj.bias"]);
            var expectedIndices = logits.argmax(1);                                         // [b, h, w]
            var expectedZq = named["quantize.embed.weight"].index_select(0, expectedIndices.reshape(-1))
                .view(1, 8, 8, 32).permute(0, 3, 1, 2);

            using var output = gumbel.Forward(h);
            AssertIdentical(expectedIndices, output.Indices, "gumbel indices [b,h,w]");
            AssertClose(expectedZq, output.ZQ, "gumbel z_q", (1e-6, 1e-6));
            // KL-to-uniform prior: kl_weight * sum(qy * log(qy * n + 1e-10)) averaged over positions.
            var qy = nn.functional.softmax(logits, 1);
            var kl = (qy * (qy * 48 + 1e-10).log()).sum(1).mean() * 1e-8;
            AssertClose(kl, output.Loss!, "gumbel KL loss", (1e-12, 1e-5));

            var (zq, indices) = model.QuantizeEncoded(h);
            AssertIdentical(expectedIndices.reshape(-1), indices, "QuantizeEncoded indices (flattened)");
            using var fromIndices = model.Quantizer.GetCodebookEntry(indices, new long[] { 1, 8, 8, 32 });
            AssertClose(expectedZq, fromIndices, "get_codebook_entry", (1e-6, 1e-6));
            using var decodedA = model.Decode(zq);
            using var decodedB = model.DecodeIndices(indices, new long[] { 1, 8, 8, 32 });
            AssertClose(decodedA, decodedB, "decode(z_q) vs decode(indices)", (1e-5, 1e-5));
        }
    }

    [Fact]
    public void Soft_gradient_reaches_the_encoder_features()
    {
        using var model = new VqganModel(GumbelConfig());
        using var h = (randn(1, 32, 4, 4) * 3).requires_grad_(true);
        using var output = ((GumbelQuantize)model.Quantizer).Forward(h, temperature: 0.5, sampleNoise: false);
        using var loss = output.ZQ.pow(2).sum();
        loss.backward();
        Assert.NotNull(h.grad);
        Assert.True(h.grad!.abs().sum().item<float>() > 0, "the softmax straight-through gives h a gradient");
    }

    [Fact]
    public void Gumbel_noise_sampling_changes_choices_only_when_asked()
    {
        using var model = new VqganModel(GumbelConfig());
        manual_seed(11);
        using var h = randn(1, 32, 8, 8) * 0.01;   // near-uniform logits: noise decides
        var gumbel = (GumbelQuantize)model.Quantizer;
        using var a = gumbel.Forward(h, computeLoss: false);
        using var b = gumbel.Forward(h, computeLoss: false);
        AssertIdentical(a.Indices, b.Indices, "deterministic without noise");
        using var noisy = gumbel.Forward(h, null, sampleNoise: true, computeLoss: false);
        Assert.False(noisy.Indices.equal(a.Indices).all().item<bool>(), "Gumbel noise on near-uniform logits changes some choices");
    }

    [Fact]
    public void Round_trips_through_safetensors_with_yaml_and_by_inference()
    {
        var config = GumbelConfig();
        var dir = TempDir();
        try
        {
            using var original = new VqganModel(config);
            var path = Path.Combine(dir, "vqgan_gumbel_tiny.safetensors");
            SaveSafetensors(original, path);
            var yaml = ToTamingYaml(config, VqganConfig.GumbelVQTarget)
                .Replace("    lossconfig:", "    kl_weight: 1.0e-08\n    temperature_scheduler_config:\n      target: taming.lr_scheduler.LambdaWarmUpCosineScheduler\n    lossconfig:");
            File.WriteAllText(Path.Combine(dir, "vqgan_gumbel_tiny.yaml"), yaml);

            using var withYaml = VqganModel.Load(path);
            Assert.Equal(VqganKind.GumbelVQ, withYaml.Config.Kind);
            Assert.Equal(VqganConfig.GumbelVQTarget, withYaml.Config.Target);
            File.Delete(Path.Combine(dir, "vqgan_gumbel_tiny.yaml"));
            using var inferred = VqganModel.Load(path);
            Assert.Equal(VqganKind.GumbelVQ, inferred.Config.Kind);
            Assert.Equal(48, inferred.Config.NEmbed);
            Assert.Equal(32, inferred.Config.EmbedDim);

            using var image = RandomImage(16, 5);
            using (no_grad())
            {
                foreach (var reopened in new[] { withYaml, inferred })
                {
                    using var h0 = original.Encode(image);
                    using var h1 = reopened.Encode(image);
                    AssertIdentical(h0, h1, "h");
                    var (zq0, i0) = original.QuantizeEncoded(h0);
                    var (zq1, i1) = reopened.QuantizeEncoded(h1);
                    AssertIdentical(i0, i1, "indices");
                    AssertIdentical(zq0, zq1, "z_q");
                    using var d0 = original.Decode(zq0);
                    using var d1 = reopened.Decode(zq1);
                    AssertIdentical(d0, d1, "decoded");
                    using var e0 = original.DecodeIndices(i0, new long[] { 1, 8, 8, 32 });
                    using var e1 = reopened.DecodeIndices(i1, new long[] { 1, 8, 8, 32 });
                    AssertIdentical(e0, e1, "decoded from indices");
                    zq0.Dispose(); zq1.Dispose(); i0.Dispose(); i1.Dispose();
                }
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Quantize_on_a_gumbel_model_is_nearest_neighbour_in_codebook_space()
    {
        // VQGAN+CLIP's vector_quantize(z, quantize.embed.weight) for GumbelVQ latents.
        using var model = new VqganModel(GumbelConfig());
        using var z = randn(1, 32, 3, 3);
        var (zq, indices) = model.Quantize(z);
        using (zq)
        using (indices)
        {
            var flat = z.permute(0, 2, 3, 1).reshape(-1, 32);
            AssertIdentical(cdist(flat, model.Codebook.detach()).argmin(1), indices, "nearest entries");
        }
    }
}
