using VqganClip.Models.Vqgan;

namespace VqganClip.Models.Cost;

/// <summary>
/// Floating-point work of a VQGAN decode (<see cref="VqganModel.Decode"/>: post_quant_conv and taming's Decoder) from
/// its <see cref="VqganConfig"/>, layer by layer as <see cref="Decoder"/> builds it, for a latent of a given size
/// (the decoder runs at whatever size it is given; the config's resolution only places the attention levels).
/// Weights frozen, gradient wanted at the latent. See <see cref="FlopCount"/> for the convention.
/// </summary>
public static class VqganFlops
{
    /// <summary>Decoding a [batch, embed_dim, latentHeight, latentWidth] latent.</summary>
    public static FlopCount Decode(VqganConfig config, long latentHeight, long latentWidth, long batch = 1) =>
        DecodeParts(config, latentHeight, latentWidth, batch).Total;

    /// <summary>The same, split into "VQGAN convolutions" and "VQGAN attention".</summary>
    public static FlopTally DecodeParts(VqganConfig config, long latentHeight, long latentWidth, long batch = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (latentHeight <= 0 || latentWidth <= 0 || batch <= 0)
            throw new ArgumentOutOfRangeException(nameof(latentHeight), $"Latent size and batch must be positive; got {batch}x{latentHeight}x{latentWidth}.");
        var dd = config.DdConfig;
        int levels = dd.NumResolutions;
        var attention = dd.DecoderAttentionLevels();
        var tally = new FlopTally();
        long h = latentHeight, w = latentWidth, n = batch;

        tally.Add(Convs, FlopCount.Conv2d(n, config.EmbedDim, dd.ZChannels, 1, h, w));    // post_quant_conv
        long blockIn = (long)dd.Ch * dd.ChMult[levels - 1];
        tally.Add(Convs, FlopCount.Conv2d(n, dd.ZChannels, blockIn, 3, h, w));             // conv_in
        ResnetBlock(tally, n, blockIn, blockIn, h, w, dd.ConvShortcut);                      // mid.block_1
        AttnBlock(tally, n, blockIn, h, w);                                                  // mid.attn_1
        ResnetBlock(tally, n, blockIn, blockIn, h, w, dd.ConvShortcut);                      // mid.block_2
        for (int level = levels - 1; level >= 0; level--)
        {
            long blockOut = (long)dd.Ch * dd.ChMult[level];
            for (int i = 0; i < dd.NumResBlocks + 1; i++)
            {
                ResnetBlock(tally, n, blockIn, blockOut, h, w, dd.ConvShortcut);
                blockIn = blockOut;
                if (attention[level]) AttnBlock(tally, n, blockIn, h, w);
            }
            if (level != 0)
            {
                h *= 2;
                w *= 2;
                if (dd.ResampWithConv) tally.Add(Convs, FlopCount.Conv2d(n, blockIn, blockIn, 3, h, w)); // upsample.conv after nearest x2
            }
        }
        if (!dd.GivePreEnd) tally.Add(Convs, FlopCount.Conv2d(n, blockIn, dd.OutCh, 3, h, w));   // conv_out
        return tally;
    }

    /// <summary>
    /// The nearest-codebook search VQGAN+CLIP does every step (<c>|z|² + |e|² − 2·z·eᵀ</c>, argmin):
    /// one [tokens, embed_dim]·[embed_dim, n_embed] product, forward only (the gradient goes straight through).
    /// </summary>
    public static FlopCount NearestCodeSearch(VqganConfig config, long tokens)
    {
        ArgumentNullException.ThrowIfNull(config);
        return FlopCount.ForwardOnly(2.0 * tokens * config.EmbedDim * config.NEmbed);
    }

    private const string Convs = "VQGAN convolutions";
    private const string Attn = "VQGAN attention";

    private static void ResnetBlock(FlopTally tally, long n, long cin, long cout, long h, long w, bool convShortcut)
    {
        var f = FlopCount.Conv2d(n, cin, cout, 3, h, w) + FlopCount.Conv2d(n, cout, cout, 3, h, w);
        if (cin != cout) f += FlopCount.Conv2d(n, cin, cout, convShortcut ? 3 : 1, h, w);
        tally.Add(Convs, f);
    }

    private static void AttnBlock(FlopTally tally, long n, long c, long h, long w)
    {
        long hw = h * w;
        tally.Add(Convs, 4 * FlopCount.Conv2d(n, c, c, 1, h, w));    // q, k, v, proj_out
        tally.Add(Attn, FlopCount.ActivationProduct(n, hw, hw, c)    // q·kᵀ
            + FlopCount.ActivationProduct(n, c, hw, hw));            // v·wᵀ
    }
}
