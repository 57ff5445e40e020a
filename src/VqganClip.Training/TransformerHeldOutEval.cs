using VqganClip.Clipart;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>How well a caption-conditioned transformer predicts the codes of held-out clipart scenes.</summary>
/// <param name="CrossEntropy">Mean token cross-entropy (nats) of the image codes given the caption and the codes before them.</param>
/// <param name="TokenAccuracy">Share of image codes that are the GPT's most likely next token.</param>
public sealed record TransformerHeldOutResult(int Scenes, double CrossEntropy, double TokenAccuracy);

/// <summary>
/// The trainer's held-out figures as a function of a model, so the model card's numbers can be checked on the shipped
/// file: each scene is rendered, encoded to codes by the transformer's own first stage, and its caption conditions the
/// GPT (taming's training forward, <see cref="Net2NetTransformer.ForwardTokens"/>).
/// </summary>
public static class TransformerHeldOutEval
{
    /// <summary>taming's training forward on rendered scenes: logits for every image code and the codes themselves.</summary>
    public static (Tensor Logits, Tensor Target) Forward(Net2NetTransformer model, IReadOnlyList<SceneSpec> specs, IReadOnlyList<string> captions, int renderThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        var stage = model.CondStage as CaptionConditioning
            ?? throw new ArgumentException($"The transformer's conditioning stage is {model.CondStage.GetType().Name}; held-out scenes need a caption-conditioned one.", nameof(model));
        Tensor z;
        using (no_grad())
        {
            using var pixels = ClipartBatches.Render(specs, renderThreads);
            using var x = pixels * 2 - 1;
            z = model.EncodeToZ(x).Indices;
        }
        using var c = stage.EncodeText(captions);
        return model.ForwardTokens(z, c);
    }

    /// <summary>Cross-entropy and token accuracy on the first <paramref name="count"/> held-out scenes (<see cref="ClipartBatches.HeldOut"/>).</summary>
    public static TransformerHeldOutResult Run(Net2NetTransformer model, int count = 1000, int batchSize = 64, int renderThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var (specs, captions) = ClipartBatches.HeldOut(count);
        double lossSum = 0, correct = 0, tokens = 0;
        using var _ = no_grad();
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            using var scope = NewDisposeScope();
            var (logits, target) = Forward(model, specs[start..(start + n)], captions[start..(start + n)], renderThreads);
            lossSum += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), target.reshape(-1), reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(-1).eq(target).sum().item<long>();
            tokens += target.numel();
        }
        return new TransformerHeldOutResult(count, lossSum / tokens, correct / tokens);
    }
}
