using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// A conditioning stage that reads text: a caption-conditioned transformer's stage implements it beside
/// <see cref="IConditioningStage"/>, and the text-to-picture pipeline (VqganClip.Guidance's
/// <c>TransformerPipeline</c>) conditions such a model on the text of the prompt. The seam between the pipeline and
/// any caption stage: the pipeline checks <c>model.CondStage is ITextConditioning</c> and knows nothing else of it.
/// </summary>
public interface ITextConditioning
{
    /// <summary>The conditioning tokens [B, L] (int64, in the GPT's vocabulary; the same L for every caption) of <paramref name="captions"/>.</summary>
    Tensor EncodeText(IReadOnlyList<string> captions);

    /// <summary>The words of <paramref name="caption"/> the stage cannot express or never saw in training, each once (empty when it knows them all).</summary>
    IReadOnlyList<string> UnknownWords(string caption);
}
