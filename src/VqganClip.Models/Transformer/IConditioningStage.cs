using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// A Net2NetTransformer's conditioning stage (upstream's <c>cond_stage_model</c> and its <c>encode_to_c</c>): turns a
/// batch's conditioning (class ids, images, segmentation maps, ...) into token ids [B, L] (int64) in the GPT's
/// vocabulary, which the GPT reads before the image tokens.
/// </summary>
public interface IConditioningStage
{
    /// <summary>Upstream's <c>cond_stage_config</c> target (or marker such as <c>__is_first_stage__</c>).</summary>
    string Target { get; }

    /// <summary>A short human-readable description (kind and its numbers).</summary>
    string Description { get; }

    /// <summary>The conditioning tokens [B, L] (int64) for a batch whose first axis is the batch.</summary>
    Tensor Encode(Tensor conditioning);
}
