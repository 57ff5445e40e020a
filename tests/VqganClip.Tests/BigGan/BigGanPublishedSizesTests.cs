using VqganClip.Models.BigGan;
using VqganClip.Tests.Transformer;

namespace VqganClip.Tests.BigGan;

/// <summary>The published biggan-deep-{128,256,512} configs build, with the parameter counts upstream's README gives.</summary>
public class BigGanPublishedSizesTests
{
    static BigGanPublishedSizesTests() => TransformerTestSupport.EnsureTorch();

    /// <summary>config.json of the published models (BigGANConfig defaults for 128; 256 adds an 8→8 stage, 512 also a 1→1 stage).</summary>
    public static string PublishedConfigJson(int size)
    {
        var layers = new List<(bool, int, int)>
        {
            (false, 16, 16), (true, 16, 16), (false, 16, 16), (true, 16, 8), (false, 8, 8),
        };
        if (size >= 256) layers.AddRange([(true, 8, 8), (false, 8, 8)]);
        layers.AddRange([(true, 8, 4), (false, 4, 4), (true, 4, 2), (false, 2, 2), (true, 2, 1)]);
        if (size >= 512) layers.AddRange([(false, 1, 1), (true, 1, 1)]);
        var layerJson = string.Join(", ", layers.Select(l => $"[{(l.Item1 ? "true" : "false")}, {l.Item2}, {l.Item3}]"));
        return $$"""
            {"attention_layer_position": 8, "channel_width": 128, "class_embed_dim": 128, "eps": 0.0001,
             "layers": [{{layerJson}}], "n_stats": 51, "num_classes": 1000, "output_dim": {{size}}, "z_dim": 128}
            """;
    }

    [Theory]
    [InlineData(128, 10, 50.4)]
    [InlineData(256, 12, 55.9)]
    [InlineData(512, 14, 56.2)]
    public void Published_configs_build_with_upstreams_parameter_counts(int size, int layers, double millions)
    {
        var config = BigGanConfig.FromJson(PublishedConfigJson(size), $"biggan-deep-{size}");
        Assert.Equal(layers, config.Layers.Count);
        Assert.Equal(layers + 1, config.NumLatents);
        using var model = new BigGanModel(config);
        long count = model.parameters().Sum(p => p.numel());
        Assert.Equal(millions, Math.Round(count / 1e6, 1));
        Assert.Equal(config, BigGanConfig.Published(size));   // the library's copy of the published configs
    }

    [Fact]
    public void Published_rejects_an_unpublished_size_and_keeps_the_layer_plan_at_another_width()
    {
        var e = Assert.Throws<ArgumentException>(() => BigGanConfig.Published(64));
        Assert.StartsWith("BigGAN-deep was published at 128, 256, 512 px, not 64.", e.Message);
        var narrow = BigGanConfig.Published(256, channelWidth: 4);
        Assert.Equal(BigGanConfig.Published(256).Layers, narrow.Layers);
        Assert.Equal(4, narrow.ChannelWidth);
    }
}
