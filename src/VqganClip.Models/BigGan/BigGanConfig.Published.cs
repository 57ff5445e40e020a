namespace VqganClip.Models.BigGan;

public sealed partial record BigGanConfig
{
    /// <summary>The sides of the published BigGAN-deep models (biggan-deep-128, -256, -512).</summary>
    public static IReadOnlyList<int> PublishedSizes { get; } = [128, 256, 512];

    /// <summary>
    /// The config.json of the published <c>biggan-deep-{size}</c> (pytorch-pretrained-BigGAN; 128 is <c>BigGANConfig</c>'s
    /// defaults, 256 adds an 8→8 stage, 512 also a 1→1 stage): z_dim 128, channel_width 128, 1000 classes, attention
    /// before GenBlock 8, eps 1e-4, 51 standing statistics; 10/12/14 GenBlocks, 50.4 M/55.9 M/56.2 M parameters.
    /// <paramref name="channelWidth"/> other than 128 gives the same layer plan at another width (for quick checks;
    /// it must be a multiple of 4).
    /// </summary>
    public static BigGanConfig Published(int size, int channelWidth = 128)
    {
        if (!PublishedSizes.Contains(size))
            throw new ArgumentException($"BigGAN-deep was published at {string.Join(", ", PublishedSizes)} px, not {size}.", nameof(size));
        var layers = new List<BigGanLayer>
        {
            new(false, 16, 16), new(true, 16, 16), new(false, 16, 16), new(true, 16, 8), new(false, 8, 8),
        };
        if (size >= 256) layers.AddRange([new(true, 8, 8), new(false, 8, 8)]);
        layers.AddRange([new(true, 8, 4), new(false, 4, 4), new(true, 4, 2), new(false, 2, 2), new(true, 2, 1)]);
        if (size >= 512) layers.AddRange([new(false, 1, 1), new(true, 1, 1)]);
        var config = new BigGanConfig
        {
            OutputDim = size,
            ZDim = 128,
            ClassEmbedDim = 128,
            ChannelWidth = channelWidth,
            NumClasses = 1000,
            Layers = layers,
            AttentionLayerPosition = 8,
            Eps = 1e-4,
            NStats = 51,
            Source = channelWidth == 128 ? $"biggan-deep-{size}'s published config" : $"biggan-deep-{size}'s layers at channel_width {channelWidth}",
        };
        config.Validate();
        return config;
    }
}
