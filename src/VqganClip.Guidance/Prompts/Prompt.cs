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
    public Prompt(PromptSpec spec, Tensor embedding)
    {
        if (embedding.dim() != 2)
            throw new ArgumentException($"A prompt embedding must be [rows, dim]; got [{string.Join(", ", embedding.shape)}] for '{spec.ToLabel()}'.", nameof(embedding));
        Spec = spec;
        using var detached = embedding.detach();
        Embedding = nn.functional.normalize(detached.to_type(ScalarType.Float32), dim: 1).DetachFromDisposeScope();
    }

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
    public Tensor Loss(Tensor imageEmbeds)
    {
        using var scope = NewDisposeScope();
        var input = nn.functional.normalize(imageEmbeds.unsqueeze(1), dim: 2);          // [n,1,d]
        var target = Embedding.to(imageEmbeds.device).unsqueeze(0);                      // [1,m,d]
        var dists = input.sub(target).norm(dim: 2).div(2).arcsin().pow(2).mul(2);       // [n,m]
        dists = dists * Math.Sign(Weight);
        if (!double.IsNegativeInfinity(Stop))
            dists = GradientTricks.ReplaceGrad(dists, dists.clamp_min(Stop));
        return (dists.mean() * Math.Abs(Weight)).MoveToOuterDisposeScope();
    }

    public void Dispose() => Embedding.Dispose();
}
