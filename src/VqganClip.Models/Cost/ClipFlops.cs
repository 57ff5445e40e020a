using VqganClip.Models.Clip;

namespace VqganClip.Models.Cost;

/// <summary>
/// Floating-point work of CLIP's image encoder (<see cref="ClipModel.EncodeImage"/>) for a batch, from its
/// <see cref="ClipConfig"/>, layer by layer as <see cref="VisionTransformer"/> and <see cref="ModifiedResNet"/> compute
/// it (see <see cref="FlopCount"/> for the convention). Weights frozen, gradient wanted at the pixels.
/// </summary>
public static class ClipFlops
{
    /// <summary>The image encoder on <paramref name="batch"/> images of the configured resolution.</summary>
    public static FlopCount ImageEncoder(ClipConfig config, long batch) => ImageEncoderParts(config, batch).Total;

    /// <summary>The same, split into named parts ("CLIP patch/stem", "CLIP linears", "CLIP attention", ...).</summary>
    public static FlopTally ImageEncoderParts(ClipConfig config, long batch)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"Batch must be positive; got {batch}.");
        return config.IsResNet ? ResNet(config, batch) : VisionTransformer(config, batch);
    }

    private static FlopTally VisionTransformer(ClipConfig c, long n)
    {
        long w = c.VisionWidth, p = c.VisionPatchSize, g = c.GridSize, tokens = g * g + 1;
        var tally = new FlopTally();
        tally.Add("CLIP patch embedding", FlopCount.Conv2d(n, 3, w, p, g, g));
        for (int layer = 0; layer < c.VisionLayers; layer++)
        {
            // The last block runs for the class token alone (only it is read afterwards): keys and values still come
            // from every token, but queries, out_proj and the MLP see one token per image.
            long queries = layer == c.VisionLayers - 1 ? 1 : tokens;
            tally.Add("CLIP linears", FlopCount.Linear(n * queries, w, w)      // in_proj q
                + FlopCount.Linear(n * tokens, w, 2 * w)                           // in_proj k, v
                + FlopCount.Linear(n * queries, w, w)                              // out_proj
                + FlopCount.Linear(n * queries, w, 4 * w)                          // mlp.c_fc
                + FlopCount.Linear(n * queries, 4 * w, w));                        // mlp.c_proj
            tally.Add("CLIP attention", Attention(n, queries, tokens, w, c.VisionHeads));
        }
        tally.Add("CLIP linears", FlopCount.Linear(n, w, c.EmbedDim));           // proj, class token only
        return tally;
    }

    private static FlopTally ResNet(ClipConfig c, long n)
    {
        var tally = new FlopTally();
        long width = c.VisionWidth, r = c.ImageResolution / 2;
        // stem: 3x3 stride 2, then two 3x3 at half resolution; AvgPool2d(2)
        tally.Add("CLIP stem", FlopCount.Conv2d(n, 3, width / 2, 3, r, r)
            + FlopCount.Conv2d(n, width / 2, width / 2, 3, r, r)
            + FlopCount.Conv2d(n, width / 2, width, 3, r, r));
        r /= 2;
        long inplanes = width;
        var layers = c.VisionResNetLayers!;
        for (int stage = 0; stage < 4; stage++)
        {
            long planes = width << stage;
            for (int b = 0; b < layers[stage]; b++)
            {
                long stride = b == 0 && stage > 0 ? 2 : 1;
                long rOut = r / stride;
                var block = FlopCount.Conv2d(n, inplanes, planes, 1, r, r)       // conv1 1x1
                    + FlopCount.Conv2d(n, planes, planes, 3, r, r)               // conv2 3x3 (then AvgPool(stride))
                    + FlopCount.Conv2d(n, planes, planes * 4, 1, rOut, rOut);    // conv3 1x1
                if (stride > 1 || inplanes != planes * 4)
                    block += FlopCount.Conv2d(n, inplanes, planes * 4, 1, rOut, rOut);   // downsample: AvgPool, 1x1
                tally.Add("CLIP bottlenecks", block);
                inplanes = planes * 4;
                r = rOut;
            }
        }
        // attention pool over the (resolution/32)² grid plus the mean token, all tokens as queries (as implemented)
        long embed = width * 32, tokens = (long)c.GridSize * c.GridSize + 1;
        tally.Add("CLIP attention pool", 3 * FlopCount.Linear(n * tokens, embed, embed)
            + FlopCount.Linear(n * tokens, embed, c.EmbedDim)
            + Attention(n, tokens, tokens, embed, c.VisionHeads));
        return tally;
    }

    /// <summary>Scores (q·kᵀ) and weighted values (softmax·v) over all heads: 2·2·n·lq·lk·width forward.</summary>
    private static FlopCount Attention(long n, long lq, long lk, long width, long heads)
    {
        long headDim = width / heads;
        return FlopCount.ActivationProduct(n * heads, lq, lk, headDim) + FlopCount.ActivationProduct(n * heads, lq, headDim, lk);
    }
}
