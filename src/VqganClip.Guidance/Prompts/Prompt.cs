using TorchSharp;
using VqganClip.Guidance.Autograd;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Prompts;

/// <summary>
/// An encoded prompt: target embeddings (rows, L2-normalised), a weight and a stop. Its loss is the squared
/// spherical (great-circle) distance between each image embedding and each target row, averaged, times the weight
/// (the original's <c>Prompt</c> module).
/// </summary>
public sealed class Prompt : IDisposable
{
    /// <summary>Wraps target embeddings [rows, dim]; they are L2-normalised here (a copy; the argument is not kept).</summary>
    public Prompt(PromptSpec spec, Tensor embedding) : this(spec, embedding, normalized: false) { }

    private Prompt(PromptSpec spec, Tensor embedding, bool normalized)
    {
        if (embedding.dim() != 2)
            throw new ArgumentException($"A prompt embedding must be [rows, dim]; got [{string.Join(", ", embedding.shape)}] for '{spec.ToLabel()}'.", nameof(embedding));
        Spec = spec;
        using var scope = NewDisposeScope();
        var e = embedding.detach().to_type(ScalarType.Float32);
        Embedding = (normalized ? e.clone() : nn.functional.normalize(e, dim: 1)).DetachFromDisposeScope();
    }

    /// <summary>Wraps embeddings that are already normalised (e.g. read back from a saved run) without touching their bits.</summary>
    public static Prompt FromNormalized(PromptSpec spec, Tensor embedding) => new(spec, embedding, normalized: true);

    public PromptSpec Spec { get; }

    /// <summary>Normalised target embeddings [rows, dim] (one row for text and noise prompts, one per cutout for image prompts).</summary>
    public Tensor Embedding { get; }

    public double Weight => Spec.Weight;
    public double Stop => Spec.Stop;
    public string Label => Spec.ToLabel();

    /// <summary>
    /// The spherical distance loss for image embeddings [n, dim] (need not be normalised): for every pair,
    /// <c>2·arcsin(|x−y|/2)²</c>; multiplied by sign(weight); the stop keeps the value but cuts the gradient where
    /// the (signed) distance is below it; mean over all pairs times |weight|. Returns a scalar.
    /// </summary>
    public Tensor Loss(Tensor imageEmbeds) => Loss(imageEmbeds, PromptLossKind.Spherical);

    /// <summary>
    /// The loss of <paramref name="kind"/>: <see cref="PromptLossKind.Spherical"/> as <see cref="Loss(Tensor)"/>;
    /// <see cref="PromptLossKind.Cosine"/> Big Sleep's <c>−100 · weight · mean cos(target, image)</c> over every pair
    /// (its <c>sim_txt_to_img</c>; a "min" prompt, weight −1, gives <c>+100 · cos</c>). The stop does not apply to it.
    /// </summary>
    public Tensor Loss(Tensor imageEmbeds, PromptLossKind kind) => Loss(imageEmbeds, kind, 100);

    /// <summary>
    /// As <see cref="Loss(Tensor, PromptLossKind)"/>; <see cref="PromptLossKind.StyleClip"/> needs CLIP's
    /// <paramref name="logitScale"/> (exp(logit_scale), 100 for a trained CLIP): <c>weight · mean(1 − scale·cos/100)</c>
    /// over every pair (StyleCLIP's CLIPLoss). The stop does not apply to it.
    /// </summary>
    public Tensor Loss(Tensor imageEmbeds, PromptLossKind kind, double logitScale)
    {
        if (kind == PromptLossKind.Cosine) return CosineLoss(imageEmbeds);
        if (kind == PromptLossKind.StyleClip) return StyleClipLoss(imageEmbeds, logitScale);
        using var scope = NewDisposeScope();
        var input = nn.functional.normalize(imageEmbeds.unsqueeze(1), dim: 2);          // [n,1,d]
        var sameDevice = Embedding.device_type == imageEmbeds.device_type && Embedding.device_index == imageEmbeds.device_index;
        var target = (sameDevice ? Embedding : Embedding.to(imageEmbeds.device)).unsqueeze(0);   // [1,m,d]
        var dists = SquaredSphericalDistance(input, target);                             // [n,m]
        // multiplying by 1 changes no bit of the value or the gradient: the usual weight 1 skips both products
        if (Weight <= 0) dists = dists * Math.Sign(Weight);
        if (!double.IsNegativeInfinity(Stop))
            dists = GradientTricks.ReplaceGrad(dists, dists.clamp_min(Stop));
        var mean = dists.mean();
        return (Math.Abs(Weight) == 1 ? mean : mean * Math.Abs(Weight)).MoveToOuterDisposeScope();
    }

    private Tensor StyleClipLoss(Tensor imageEmbeds, double logitScale)
    {
        using var scope = NewDisposeScope();
        var input = nn.functional.normalize(imageEmbeds, dim: 1);                          // [n,d]
        var target = Embedding.to(imageEmbeds.device);                                     // [m,d], normalised
        var loss = (1 - input.matmul(target.t()) * (logitScale / 100)).mean();
        return (Weight == 1 ? loss : loss * Weight).MoveToOuterDisposeScope();
    }

    private Tensor CosineLoss(Tensor imageEmbeds)
    {
        using var scope = NewDisposeScope();
        var input = nn.functional.normalize(imageEmbeds, dim: 1);                          // [n,d]
        var target = Embedding.to(imageEmbeds.device);                                     // [m,d], normalised
        var cos = input.matmul(target.t()).mean();
        return (cos * (-BigSleep.BigSleepDefaults.LossCoefficient * Weight)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>2·arcsin(|x−y|/2)²</c> over the last dimension of unit vectors (broadcasting): half the squared great-circle angle.
    /// For nearly opposite vectors rounding can put |x−y|/2 a hair above 1, where arcsin is NaN (and its slope infinite
    /// at 1); the argument is clamped just below 1, which moves no value by more than float32 rounding elsewhere.
    /// </summary>
    public static Tensor SquaredSphericalDistance(Tensor x, Tensor y) =>
        x.sub(y).norm(dim: -1).div(2).clamp_max(MaxHalfChord).arcsin().pow(2).mul(2);

    /// <summary>The largest float32 below 1: the clamp of <see cref="SquaredSphericalDistance"/>.</summary>
    private const double MaxHalfChord = 0.99999994;

    public void Dispose() => Embedding.Dispose();
}
