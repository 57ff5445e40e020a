using System.Text.RegularExpressions;
using VqganClip.Models.Clip;
using VqganClip.Models.Cost;
using VqganClip.Models.Vqgan;

namespace VqganClip.Tests.Perf;

/// <summary>
/// The analytic FLOP counts against a second count made independently from the weights of a network actually built
/// from the same configuration (each weight matrix or kernel used once per output position, 2 FLOP per multiply-add),
/// and against the published size of ViT-B/32.
/// </summary>
public class FlopCountTests
{
    [Fact]
    public void ViTB32ImageEncoderMatchesItsPublishedSize()
    {
        // ViT-B/32 at 224 px is quoted at 4.4 GMAC per image = 8.8 GFLOP (2 per multiply-add); computing the last
        // block for the class token alone saves (49/50 of) its queries, out_proj and MLP: 0.585 GFLOP.
        var f = ClipFlops.ImageEncoder(ClipConfig.ViTB32, 1);
        Assert.InRange(f.Forward + 0.585e9, 8.7e9, 8.9e9);
        // frozen weights: linears backward 1x, attention (0.085 GFLOP) 2x
        Assert.InRange(f.Backward - f.Forward, 0.08e9, 0.09e9);
        Assert.Equal(32 * f.Forward, ClipFlops.ImageEncoder(ClipConfig.ViTB32, 32).Forward, 1e-6 * f.Forward);
    }

    public static TheoryData<string> VitConfigs => new() { "fixture", "wide" };

    [Theory]
    [MemberData(nameof(VitConfigs))]
    public void VitCountEqualsACountFromTheBuiltModelsWeights(string which)
    {
        var config = which == "fixture"
            ? ClipConfig.ViT(embedDim: 32, resolution: 32, layers: 2, width: 64, patch: 8, textWidth: 16, textHeads: 2, textLayers: 2)
            : ClipConfig.ViT(embedDim: 48, resolution: 48, layers: 3, width: 128, patch: 12, textWidth: 32, textHeads: 2, textLayers: 1) with { VisionHeads = 4 };
        const int batch = 3;
        using var model = new ClipModel(config);
        long grid = config.ImageResolution / config.VisionPatchSize, tokens = grid * grid + 1;
        double forward = 0, attention = 0;
        string last = $".resblocks.{config.VisionLayers - 1}.";
        long w = config.VisionWidth;
        foreach (var (name, p) in model.named_parameters())
        {
            if (!name.StartsWith("visual.", StringComparison.Ordinal)) continue;
            bool lastBlock = name.Contains(last, StringComparison.Ordinal);   // runs for the class token only
            if (name == "visual.conv1.weight") forward += 2.0 * batch * grid * grid * p.numel();
            else if (name == "visual.proj") forward += 2.0 * batch * p.numel();                       // class token only
            else if (lastBlock && name.EndsWith(".in_proj_weight", StringComparison.Ordinal))
                forward += 2.0 * batch * (w * w + tokens * 2 * w * w);                                 // q for one token, k and v for all
            else if (p.dim() == 2 && name.Contains(".resblocks.", StringComparison.Ordinal))
                forward += 2.0 * batch * (lastBlock ? 1 : tokens) * p.numel();
            if (name.EndsWith(".attn.in_proj_weight", StringComparison.Ordinal))
                attention += 2 * 2.0 * batch * (lastBlock ? 1 : tokens) * tokens * w;                  // scores + values
        }
        var counted = ClipFlops.ImageEncoder(config, batch);
        Assert.True(attention > 0 && forward > 0);
        Assert.Equal(forward + attention, counted.Forward, 1e-9 * counted.Forward);
        Assert.Equal(forward + 2 * attention, counted.Backward, 1e-9 * counted.Backward);
    }

    [Fact]
    public void ResNetCountEqualsACountFromTheBuiltModelsWeights()
    {
        var config = ClipConfig.ResNet(embedDim: 32, resolution: 64, layers: new[] { 1, 2, 1, 1 }, width: 8, textWidth: 16, textHeads: 2, textLayers: 1);
        const int batch = 2;
        using var model = new ClipModel(config);
        // resolution each convolution outputs, from its name: stem at R/2; stage s (layer1..4) at R/4 / 2^(s-1),
        // except a stride-2 block's conv1/conv2, which run before its pool at the previous stage's size
        double forward = 0;
        int r = config.ImageResolution;
        foreach (var (name, p) in model.named_parameters())
        {
            if (!name.StartsWith("visual.", StringComparison.Ordinal) || p.dim() != 4) continue;
            long side;
            var m = Regex.Match(name, @"^visual\.layer(\d)\.(\d+)\.(conv\d|downsample\.0)\.weight$");
            if (!m.Success) side = r / 2;      // stem convs
            else
            {
                int stage = int.Parse(m.Groups[1].Value), block = int.Parse(m.Groups[2].Value);
                side = r / 4 >> (stage - 1);
                bool beforePool = stage > 1 && block == 0 && m.Groups[3].Value is "conv1" or "conv2";
                if (beforePool) side *= 2;
            }
            forward += 2.0 * batch * side * side * p.numel();
        }
        long tokens = (long)config.GridSize * config.GridSize + 1, embed = config.VisionWidth * 32;
        double pool = 2.0 * batch * tokens * (3 * embed * embed + embed * config.EmbedDim);
        double attention = 2 * 2.0 * batch * tokens * tokens * embed;
        var counted = ClipFlops.ImageEncoder(config, batch);
        Assert.Equal(forward + pool + attention, counted.Forward, 1e-9 * counted.Forward);
    }

    public static TheoryData<string> VqganConfigs => new() { "fixture", "conv-shortcut", "no-resample-conv" };

    [Theory]
    [MemberData(nameof(VqganConfigs))]
    public void DecoderCountEqualsACountFromTheBuiltModelsWeights(string which)
    {
        var config = VqganConfig.FromYaml(TestSetup.Fixtures("vqgan-f16-tiny", "model.yaml"));
        if (which == "conv-shortcut")
            config = config with { DdConfig = config.DdConfig with { ConvShortcut = true, ChMult = new[] { 1, 2, 2, 4 }, AttnResolutions = new[] { 8, 16 }, NumResBlocks = 2 } };
        if (which == "no-resample-conv")
            config = config with { DdConfig = config.DdConfig with { ResampWithConv = false } };
        const int latentH = 3, latentW = 5;
        using var model = new VqganModel(config);
        int levels = config.DdConfig.NumResolutions;
        double forward = 0, attention = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            if (p.dim() != 4 || !(name.StartsWith("decoder.", StringComparison.Ordinal) || name.StartsWith("post_quant_conv.", StringComparison.Ordinal))) continue;
            int scale;   // output side / latent side
            var up = Regex.Match(name, @"^decoder\.up\.(\d+)\.(block|attn|upsample)\.");
            if (up.Success)
            {
                int level = int.Parse(up.Groups[1].Value);
                scale = 1 << (levels - 1 - level);
                if (up.Groups[2].Value == "upsample") scale *= 2;
            }
            else scale = name.StartsWith("decoder.conv_out.", StringComparison.Ordinal) ? 1 << (levels - 1) : 1;
            long hw = (long)latentH * scale * latentW * scale;
            forward += 2.0 * hw * p.numel();
            if (name.EndsWith(".q.weight", StringComparison.Ordinal))
                attention += 2 * 2.0 * hw * hw * p.shape[0];     // scores and values over hw positions, c channels
        }
        var counted = VqganFlops.Decode(config, latentH, latentW);
        Assert.True(forward > 0);
        bool upsampleConvs = model.named_parameters().Any(p => p.name.Contains(".upsample.conv.weight", StringComparison.Ordinal));
        Assert.Equal(which != "no-resample-conv", upsampleConvs);
        Assert.Equal(forward + attention, counted.Forward, 1e-9 * counted.Forward);
        Assert.Equal(forward + 2 * attention, counted.Backward, 1e-9 * counted.Backward);
    }

    [Fact]
    public void NearestCodeSearchIsOneForwardProduct()
    {
        var config = VqganConfig.FromYaml(TestSetup.Fixtures("vqgan-f16-tiny", "model.yaml"));
        var f = VqganFlops.NearestCodeSearch(config, 16);
        Assert.Equal(2.0 * 16 * config.EmbedDim * config.NEmbed, f.Forward);
        Assert.Equal(0, f.Backward);
    }

    [Fact]
    public void TallyKeepsPartsInOrderAndSumsRepeats()
    {
        var t = new FlopTally().Add("a", new FlopCount(1, 2)).Add("b", new FlopCount(10, 0)).Add("a", new FlopCount(3, 4));
        Assert.Equal(new[] { "a", "b" }, t.Parts.Select(p => p.Part));
        Assert.Equal(new FlopCount(4, 6), t.Parts[0].Flops);
        Assert.Equal(new FlopCount(14, 6), t.Total);
    }

    [Fact]
    public void BadSizesAreRefusedByName()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipFlops.ImageEncoder(ClipConfig.ViTB32, 0));
        var config = VqganConfig.FromYaml(TestSetup.Fixtures("vqgan-f16-tiny", "model.yaml"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => VqganFlops.Decode(config, 0, 4));
        Assert.Contains("positive", e.Message);
    }
}
