namespace VqganClip.Models.Transformer;

/// <summary>
/// What a Net2NetTransformer checkpoint without its YAML cannot tell by itself: the number of attention heads (it
/// changes no tensor shape) and, for models whose conditioning stage has no weights, whether they are unconditional
/// (SOS token) or class-conditional (n_classes). Ignored when a YAML config is used.
/// </summary>
public sealed record TransformerLoadHints
{
    /// <summary>The GPT's <c>n_head</c>.</summary>
    public int? NHead { get; init; }

    /// <summary>The conditioning stage (for <see cref="ConditioningKind.Vqgan"/> a null <see cref="ConditioningConfig.Vqgan"/> is read from the weights).</summary>
    public ConditioningConfig? Conditioning { get; init; }

    /// <summary>The SOS token of an unconditional model (upstream's default 0).</summary>
    public long? SosToken { get; init; }
}
