namespace VqganClip.Models.Clip;

/// <summary>
/// What a CLIP state dict cannot say about its architecture: head counts (OpenAI's build_model assumes
/// width/64, which tiny or third-party models do not follow), the MLP activation and the LayerNorm eps.
/// Comes from the caller (<see cref="ClipLoadOptions"/>) or from a JSON config next to the checkpoint
/// (<see cref="ClipSideConfig"/>). Null members mean "use the reference's rule".
/// </summary>
public sealed record ClipConfigHints
{
    public int? VisionHeads { get; init; }
    public int? TextHeads { get; init; }
    public ClipActivation? VisionActivation { get; init; }
    public ClipActivation? TextActivation { get; init; }
    public double? VisionLayerNormEps { get; init; }
    public double? TextLayerNormEps { get; init; }

    /// <summary>Where the hints came from, for messages (a file path or "options").</summary>
    public string? Source { get; init; }

    /// <summary>Why the activation members say what they say, e.g. "open_clip_config.json quick_gelu=false"
    /// (becomes <see cref="ClipConfig.ActivationSource"/>).</summary>
    public string? ActivationSource { get; init; }

    /// <summary>True when the activation is a default for the kind of file, not something a config or the caller said.</summary>
    public bool ActivationIsDefault { get; init; }

    public static ClipConfigHints None { get; } = new();

    /// <summary>Members of <paramref name="preferred"/> win; the rest come from <paramref name="fallback"/>.</summary>
    public static ClipConfigHints Merge(ClipConfigHints? preferred, ClipConfigHints? fallback)
    {
        preferred ??= None;
        fallback ??= None;
        // The activation's reason travels with the activation: the side that supplied it.
        var activationFrom = preferred.VisionActivation is not null || preferred.TextActivation is not null ? preferred : fallback;
        return new ClipConfigHints
        {
            ActivationSource = activationFrom.ActivationSource,
            ActivationIsDefault = activationFrom.ActivationIsDefault,
            VisionHeads = preferred.VisionHeads ?? fallback.VisionHeads,
            TextHeads = preferred.TextHeads ?? fallback.TextHeads,
            VisionActivation = preferred.VisionActivation ?? fallback.VisionActivation,
            TextActivation = preferred.TextActivation ?? fallback.TextActivation,
            VisionLayerNormEps = preferred.VisionLayerNormEps ?? fallback.VisionLayerNormEps,
            TextLayerNormEps = preferred.TextLayerNormEps ?? fallback.TextLayerNormEps,
            Source = string.Join(" + ", new[] { preferred.Source, fallback.Source }.Where(s => s is not null)) is { Length: > 0 } s ? s : null,
        };
    }
}

/// <summary>Options for <see cref="ClipModel.Load"/>.</summary>
public sealed record ClipLoadOptions
{
    /// <summary>Overrides for what the state dict cannot tell (head counts, activation, eps).</summary>
    public ClipConfigHints? Hints { get; init; }

    /// <summary>An explicit JSON config (Hugging Face config.json, open_clip config, or the CLIP constructor
    /// arguments); when null, well-known names next to the checkpoint are tried (<see cref="ClipSideConfig"/>).</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Whether to look for a JSON config next to the checkpoint when <see cref="ConfigPath"/> is null.</summary>
    public bool SearchSideConfig { get; init; } = true;

    /// <summary>The MLP activation of both towers, overriding configs and the file-kind default (open_clip files
    /// without their open_clip_config.json say nothing about it: a <c>-quickgelu</c> model needs QuickGelu here).</summary>
    public ClipActivation? Activation { get; init; }
}
