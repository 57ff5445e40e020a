using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Tests.Vqgan.VqganTestSupport;

namespace VqganClip.Tests.Vqgan;

/// <summary>
/// Parameter names against what taming's code builds, and random-weight models of other shapes
/// surviving a state dict round trip through safetensors.
/// </summary>
public sealed class VqganStructureTests
{
    public VqganStructureTests() => EnsureTorch();

    private static IEnumerable<string> Resnet(string p, bool shortcut) =>
        new[] { "norm1.weight", "norm1.bias", "conv1.weight", "conv1.bias", "norm2.weight", "norm2.bias", "conv2.weight", "conv2.bias" }
            .Concat(shortcut ? new[] { "nin_shortcut.weight", "nin_shortcut.bias" } : Array.Empty<string>())
            .Select(n => $"{p}.{n}");

    private static IEnumerable<string> Attn(string p) =>
        new[] { "norm.weight", "norm.bias", "q.weight", "q.bias", "k.weight", "k.bias", "v.weight", "v.bias", "proj_out.weight", "proj_out.bias" }
            .Select(n => $"{p}.{n}");

    private static IEnumerable<string> Conv(string p) => new[] { $"{p}.weight", $"{p}.bias" };

    /// <summary>
    /// Derived by hand from taming's Encoder/Decoder/VQModel for ch 32, ch_mult (1, 2), num_res_blocks 1,
    /// attn_resolutions [8], resolution 16, z_channels 32, embed_dim 32:
    /// encoder level 0 at 16 px (no attention, a downsample), level 1 at 8 px (attention, 32 -> 64 so a nin_shortcut);
    /// decoder level 1 (built first, inserted at 0) at 8 px: two 64 -> 64 blocks, two AttnBlocks, an upsample;
    /// level 0 at 16 px: 64 -> 32 (nin_shortcut) then 32 -> 32, no upsample. Named in registration order.
    /// </summary>
    private static List<string> TamingNamesForSmallConfig() =>
        Conv("encoder.conv_in")
            .Concat(Resnet("encoder.down.0.block.0", false))
            .Concat(Conv("encoder.down.0.downsample.conv"))
            .Concat(Resnet("encoder.down.1.block.0", true))
            .Concat(Attn("encoder.down.1.attn.0"))
            .Concat(Resnet("encoder.mid.block_1", false))
            .Concat(Attn("encoder.mid.attn_1"))
            .Concat(Resnet("encoder.mid.block_2", false))
            .Concat(Conv("encoder.norm_out"))
            .Concat(Conv("encoder.conv_out"))
            .Concat(Conv("decoder.conv_in"))
            .Concat(Resnet("decoder.mid.block_1", false))
            .Concat(Attn("decoder.mid.attn_1"))
            .Concat(Resnet("decoder.mid.block_2", false))
            .Concat(Resnet("decoder.up.0.block.0", true))
            .Concat(Resnet("decoder.up.0.block.1", false))
            .Concat(Resnet("decoder.up.1.block.0", false))
            .Concat(Resnet("decoder.up.1.block.1", false))
            .Concat(Attn("decoder.up.1.attn.0"))
            .Concat(Attn("decoder.up.1.attn.1"))
            .Concat(Conv("decoder.up.1.upsample.conv"))
            .Concat(Conv("decoder.norm_out"))
            .Concat(Conv("decoder.conv_out"))
            .Concat(new[] { "quantize.embedding.weight" })
            .Concat(Conv("quant_conv"))
            .Concat(Conv("post_quant_conv"))
            .ToList();

    [Fact]
    public void Parameter_names_and_order_match_taming()
    {
        var config = SmallConfig(chMult: new[] { 1, 2 }, numResBlocks: 1, attn: new[] { 8 }, resolution: 16);
        using var model = new VqganModel(config);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Equal(TamingNamesForSmallConfig(), names);

        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 32, 3, 3, 3 }, shapes["encoder.conv_in.weight"]);
        Assert.Equal(new long[] { 64, 32, 1, 1 }, shapes["encoder.down.1.block.0.nin_shortcut.weight"]);
        Assert.Equal(new long[] { 32, 64, 3, 3 }, shapes["encoder.conv_out.weight"]);
        Assert.Equal(new long[] { 64, 32, 3, 3 }, shapes["decoder.conv_in.weight"]);
        Assert.Equal(new long[] { 32, 64, 1, 1 }, shapes["decoder.up.0.block.0.nin_shortcut.weight"]);
        Assert.Equal(new long[] { 64, 64, 1, 1 }, shapes["decoder.up.1.attn.1.q.weight"]);
        Assert.Equal(new long[] { 3, 32, 3, 3 }, shapes["decoder.conv_out.weight"]);
        Assert.Equal(new long[] { 24, 32 }, shapes["quantize.embedding.weight"]);
        Assert.Equal(new long[] { 32, 32, 1, 1 }, shapes["quant_conv.weight"]);
        Assert.Empty(model.named_buffers());
    }

    [Fact]
    public void Attention_levels_follow_tamings_resolution_arithmetic()
    {
        // The imagenet f16 layout: 256 px, 5 levels, attention at 16 px = level 4 only.
        var imagenet = SmallConfig(chMult: new[] { 1, 1, 2, 2, 4 }, attn: new[] { 16 }, resolution: 256).DdConfig;
        Assert.Equal(new[] { false, false, false, false, true }, imagenet.EncoderAttentionLevels());
        Assert.Equal(imagenet.EncoderAttentionLevels(), imagenet.DecoderAttentionLevels());

        // A resolution that is not a power of two: the encoder halves from 100 (100, 50, 25), the decoder
        // doubles from 100 // 4 = 25 (25, 50, 100): same here...
        var odd = SmallConfig(chMult: new[] { 1, 1, 1 }, attn: new[] { 25 }, resolution: 100).DdConfig;
        Assert.Equal(new[] { false, false, true }, odd.EncoderAttentionLevels());
        Assert.Equal(new[] { false, false, true }, odd.DecoderAttentionLevels());
        // ...but not with 5 levels: encoder 100, 50, 25, 12, 6; decoder 6, 12, 24, 48, 96.
        var odd5 = SmallConfig(chMult: new[] { 1, 1, 1, 1, 1 }, attn: new[] { 25, 48 }, resolution: 100).DdConfig;
        Assert.Equal(new[] { false, false, true, false, false }, odd5.EncoderAttentionLevels());
        Assert.Equal(new[] { false, true, false, false, false }, odd5.DecoderAttentionLevels());
        using var model = new VqganModel(SmallConfig(chMult: new[] { 1, 1, 1, 1, 1 }, attn: new[] { 25, 48 }, resolution: 100));
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("encoder.down.2.attn.0.q.weight", names);
        Assert.DoesNotContain("encoder.down.1.attn.0.q.weight", names);
        Assert.Contains("decoder.up.1.attn.0.q.weight", names);
        Assert.DoesNotContain("decoder.up.2.attn.0.q.weight", names);
    }

    public static TheoryData<int[], int, int[], int> Architectures => new()
    {
        // ch_mult, num_res_blocks, attn_resolutions (at resolution), resolution
        { new[] { 1, 2, 2 }, 2, new[] { 16, 8 }, 32 },          // attention at two levels, two resnet blocks
        { new[] { 1, 1, 2, 2, 4 }, 1, new[] { 16 }, 256 },      // the imagenet f16 level layout (narrow)
        { new[] { 1, 2, 2, 4 }, 2, new[] { 32 }, 256 },         // f8, like vqgan_gumbel_f8 / openimages f8
        { new[] { 2, 1 }, 1, Array.Empty<int>(), 32 },          // no attention in the levels, width shrinking
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Random_models_round_trip_through_safetensors(int[] chMult, int numResBlocks, int[] attn, int resolution)
    {
        var config = SmallConfig(chMult: chMult, numResBlocks: numResBlocks, attn: attn, resolution: resolution, embedDim: 8, zChannels: 16);
        var dir = TempDir();
        try
        {
            using var original = new VqganModel(config);
            var path = Path.Combine(dir, "random.safetensors");
            SaveSafetensors(original, path);
            File.WriteAllText(Path.Combine(dir, "random.yaml"), ToTamingYaml(config, VqganConfig.VQModelTarget));

            using var reopened = VqganModel.Load(path);
            Assert.Equal(Path.Combine(dir, "random.yaml"), reopened.Config.Source);
            File.Delete(Path.Combine(dir, "random.yaml"));
            using var inferred = VqganModel.Load(path);
            Assert.Equal(config.DdConfig.EncoderAttentionLevels(), inferred.Config.DdConfig.EncoderAttentionLevels());
            Assert.Equal(config.DdConfig.ChMult, inferred.Config.DdConfig.ChMult);
            Assert.Equal(numResBlocks, inferred.Config.DdConfig.NumResBlocks);

            Assert.Equal(original.named_parameters().Select(p => p.name), reopened.named_parameters().Select(p => p.name));
            int f = config.DownsamplingFactor;
            using var image = RandomImage(2 * f, seed: 7);
            using (no_grad())
            {
                using var h0 = original.Encode(image);
                using var h1 = reopened.Encode(image);
                using var h2 = inferred.Encode(image);
                AssertIdentical(h0, h1, "h (yaml)");
                AssertIdentical(h0, h2, "h (inferred)");
                Assert.Equal(new long[] { 1, 8, 2, 2 }, h0.shape);
                var (zq0, i0) = original.Quantize(h0);
                var (zq1, i1) = reopened.Quantize(h1);
                AssertIdentical(i0, i1, "indices");
                using var d0 = original.Decode(zq0);
                using var d1 = inferred.Decode(zq1);
                AssertIdentical(d0, d1, "decoded");
                Assert.Equal(new long[] { 1, 3, 2 * f, 2 * f }, d0.shape);
                zq0.Dispose(); zq1.Dispose(); i0.Dispose(); i1.Dispose();
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Straight_through_gradient_reaches_the_latent()
    {
        using var model = new VqganModel(SmallConfig());
        using var z = randn(1, 32, 3, 5).requires_grad_(true);
        using var weights = randn(1, 32, 3, 5);
        var (zq, indices) = model.Quantize(z);
        using (zq)
        using (indices)
        {
            Assert.Equal(new long[] { 15 }, indices.shape);
            Assert.Equal(ScalarType.Int64, indices.dtype);
            // z_q holds codebook rows...
            using (no_grad())
            {
                var rows = model.Codebook.index_select(0, indices).view(1, 3, 5, 32).permute(0, 3, 1, 2);
                AssertClose(rows, zq, "z_q are codebook entries", (1e-6, 1e-6));
            }
            // ...and d(sum(w * z_q))/dz = w: the gradient passes straight through.
            using var loss = (zq * weights).sum();
            loss.backward();
            AssertClose(weights, z.grad!, "straight-through gradient", (1e-6, 0));
        }
    }

    [Fact]
    public void Nearest_entry_is_the_euclidean_nearest()
    {
        using var model = new VqganModel(SmallConfig(nEmbed: 40, embedDim: 32));
        using var z = randn(2, 32, 4, 4) * 0.05;
        var (zq, indices) = model.Quantize(z);
        using (zq)
        using (indices)
        {
            var flat = z.permute(0, 2, 3, 1).reshape(-1, 32);
            var distances = cdist(flat, model.Codebook.detach());
            AssertIdentical(distances.argmin(1), indices, "nearest entries");
        }
    }

    [Fact]
    public void Dropout_free_eval_and_batches_are_independent()
    {
        using var model = new VqganModel(SmallConfig());
        using var a = RandomImage(8, 1);
        using var b = RandomImage(8, 2);
        using var both = cat(new[] { a, b }, 0);
        using (no_grad())
        {
            using var hBoth = model.Encode(both);
            using var hA = model.Encode(a);
            using var hB = model.Encode(b);
            AssertClose(hA, hBoth[0..1], "batch item 0", (1e-5, 1e-5));
            AssertClose(hB, hBoth[1..2], "batch item 1", (1e-5, 1e-5));
        }
    }
}
