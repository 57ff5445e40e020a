using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.BigSleep;

/// <summary>
/// Big Sleep's loss terms (lucidrains/big-sleep 0.9.1, <c>BigSleep.forward</c>), float32 like upstream. All return
/// scalars (0-dim) with gradient; the caller disposes them.
/// </summary>
public static class BigSleepLosses
{
    /// <summary>
    /// <c>lat_loss</c> of latents [L, D] (one row per latent, <c>normu</c>):
    /// <c>|1 − std(lat, 1)|.mean() + |mean(lat, 1)|.mean() + 4·max(mean(lat²), 1)</c>, the std unbiased (torch.std's
    /// default); plus, per row r, <c>(|kurtosis_r| + |skew_r|)/L</c> with the biased moments of the source:
    /// <c>z = (x − mean) / mean((x − mean)²)^0.5</c>, <c>skew = mean(z³)</c>, <c>kurtosis = mean(z⁴) − 3</c>.
    /// Upstream adds the rows' terms one by one in a Python loop; here they are computed for all rows at once and
    /// summed (the same formulas; only float32 rounding of the sum order differs).
    /// </summary>
    public static Tensor LatentLoss(Tensor latents, double threshold = BigSleepDefaults.LatentThreshold)
    {
        if (latents.dim() != 2)
            throw new ArgumentException($"Latents must be [L, D]; got [{string.Join(", ", latents.shape)}].", nameof(latents));
        long numLatents = latents.shape[0];
        using var scope = NewDisposeScope();
        var loss = (1 - latents.std(1, unbiased: true)).abs().mean()
                   + latents.mean(new long[] { 1 }).abs().mean()
                   + BigSleepDefaults.LatentSquareWeight
                   * maximum(latents.square().mean(), tensor((float)threshold, dtype: latents.dtype, device: latents.device));

        var mean = latents.mean(new long[] { 1 }, keepdim: true);
        var diffs = latents - mean;
        var variance = diffs.pow(2.0).mean(new long[] { 1 }, keepdim: true);
        var std = variance.pow(0.5);
        var z = diffs / std;
        var skews = z.pow(3.0).mean(new long[] { 1 });
        var kurtoses = z.pow(4.0).mean(new long[] { 1 }) - 3.0;
        loss = loss + (kurtoses.abs() / numLatents + skews.abs() / numLatents).sum();
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>cls_loss</c> of the class vectors [L, C] the generator sees (sigmoid(cls), or <see cref="DifferentiableTopK"/>
    /// with max_classes — see <see cref="ClassVectors"/>): <c>((50 · topk(classes, C−1, dim 1, smallest).values)²).mean()</c>,
    /// i.e. every class weight but each row's largest is pushed to 0. Upstream writes k = 999 (its C is always 1000).
    /// </summary>
    public static Tensor ClassLoss(Tensor classes)
    {
        if (classes.dim() != 2 || classes.shape[1] < 2)
            throw new ArgumentException($"Class vectors must be [L, C] with C >= 2; got [{string.Join(", ", classes.shape)}].", nameof(classes));
        using var scope = NewDisposeScope();
        var (values, _) = classes.topk((int)classes.shape[1] - 1, dim: 1, largest: false);
        return (BigSleepDefaults.ClassLossScale * values).pow(2).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>Latents.forward</c>'s class vectors from the class logits <c>cls</c> [L, C]: <c>sigmoid(cls)</c>, or with
    /// <paramref name="maxClasses"/> <c>differentiable_topk(cls, maxClasses, temperature)</c> (of the raw logits, no sigmoid).
    /// </summary>
    public static Tensor ClassVectors(Tensor cls, int? maxClasses = null, double temperature = BigSleepDefaults.ClassTemperature)
    {
        if (maxClasses is null) return cls.sigmoid();
        if (maxClasses <= 0 || maxClasses > cls.shape[^1])
            throw new ArgumentOutOfRangeException(nameof(maxClasses), $"max_classes must be between 1 and {cls.shape[^1]}; got {maxClasses}.");
        return DifferentiableTopK.Apply(cls, maxClasses.Value, temperature);
    }

    /// <summary>
    /// <c>sim_txt_to_img</c>: <c>sign · coef · cosine_similarity(text, image, dim −1).mean()</c> with sign −1 for a prompt
    /// to reach and +1 for a "min" prompt (<c>text_min</c>) to avoid. <paramref name="textEmbedding"/> [1, E] (or [E]),
    /// <paramref name="imageEmbeddings"/> [N, E] (one per cutout; not normalised, cosine normalises). Upstream's sim_loss is
    /// the plain sum of these over all prompts.
    /// </summary>
    public static Tensor SimilarityLoss(Tensor textEmbedding, Tensor imageEmbeddings, bool avoid = false,
        double coefficient = BigSleepDefaults.LossCoefficient)
    {
        using var scope = NewDisposeScope();
        var text = textEmbedding.dim() == 1 ? textEmbedding.unsqueeze(0) : textEmbedding;
        var cos = nn.functional.cosine_similarity(text, imageEmbeddings, dim: -1).mean();
        return (cos * ((avoid ? 1 : -1) * coefficient)).MoveToOuterDisposeScope();
    }
}
