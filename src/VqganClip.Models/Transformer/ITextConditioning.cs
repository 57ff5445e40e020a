using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// A conditioning stage that reads text (the toolkit's <see cref="CaptionConditioning"/>): what the generate
/// pipeline needs to condition a transformer on a prompt. The seam between that pipeline (VqganClip.Guidance's
/// <c>TransformerPipeline</c>, which checks <c>model.CondStage is ITextConditioning</c>) and any caption stage.
/// </summary>
public interface ITextConditioning
{
    /// <summary>The prefixes of a batch of texts: [B, L] int64 GPT ids on <paramref name="device"/> (the CPU when null).</summary>
    Tensor EncodeText(IReadOnlyList<string> texts, Device? device = null);

    /// <summary>Words of <paramref name="text"/> the model never saw in training (their tokens are unknown to it).</summary>
    IReadOnlyList<string> UnknownWords(string text);
}
