using VqganClip.Models.Vqgan;

namespace VqganClip.Models.Transformer;

/// <summary>Which conditioning stage a Net2NetTransformer uses.</summary>
public enum ConditioningKind
{
    /// <summary><c>__is_unconditional__</c> (or <c>unconditional: true</c>): <see cref="SosProvider"/> with <c>sos_token</c>.</summary>
    Unconditional,

    /// <summary><c>__is_first_stage__</c>: the first-stage VQGAN's codes of the conditioning input.</summary>
    FirstStage,

    /// <summary><c>taming.modules.util.Labelator</c>: the class id as one token (<see cref="Labelator"/>).</summary>
    ClassLabel,

    /// <summary>A separate VQGAN (<c>cond_stage_model.*</c> weights), e.g. S-FLCKR's segmentation VQGAN.</summary>
    Vqgan,

    /// <summary><c>taming.modules.misc.coord.CoordStage</c> (FacesHQ).</summary>
    Coord,

    /// <summary>Ours, not taming's: a caption's CLIP BPE tokens as a prefix (<see cref="CaptionConditioning"/>).</summary>
    Caption,
}

/// <summary>
/// Where a caption-conditioned GPT draws the thing a one-object caption names (ours, not taming's: the YAML's
/// <c>cond_stage_config.params.drawn_at</c>).
/// </summary>
public enum CaptionPlacement
{
    /// <summary>Where the caption says (no <c>drawn_at</c> in the YAML): the GPT was trained on scenes in every place.</summary>
    AsCaptioned,

    /// <summary><c>drawn_at: middle</c>: the GPT was trained on one-object scenes drawn in the middle only, so it is asked
    /// for the middle and the generate pipeline moves the picture to the caption's place.</summary>
    Middle,
}

/// <summary>A Net2NetTransformer's <c>cond_stage_config</c>.</summary>
public sealed record ConditioningConfig
{
    /// <summary>The kind of stage.</summary>
    public required ConditioningKind Kind { get; init; }

    /// <summary><see cref="ConditioningKind.ClassLabel"/>: <c>n_classes</c>.</summary>
    public int NClasses { get; init; }

    /// <summary><see cref="ConditioningKind.Vqgan"/>: the conditioning VQGAN's configuration.</summary>
    public VqganConfig? Vqgan { get; init; }

    /// <summary><see cref="ConditioningKind.Coord"/>: <c>n_embed</c>.</summary>
    public int CoordNEmbed { get; init; }

    /// <summary><see cref="ConditioningKind.Coord"/>: <c>down_factor</c>.</summary>
    public int CoordDownFactor { get; init; }

    /// <summary><see cref="ConditioningKind.Caption"/>: the first caption token's GPT id (the first stage's codebook size).</summary>
    public int CaptionOffset { get; init; }

    /// <summary><see cref="ConditioningKind.Caption"/>: caption tokens in the prefix.</summary>
    public int CaptionContextLength { get; init; }

    /// <summary><see cref="ConditioningKind.Caption"/>: where the GPT draws a one-object caption's thing.</summary>
    public CaptionPlacement CaptionPlacement { get; init; } = CaptionPlacement.AsCaptioned;

    /// <summary>The YAML's target or marker (for <see cref="ConditioningKind.Vqgan"/>: VQModel or VQSegmentationModel).</summary>
    public string? Target { get; init; }

    /// <summary>Unconditional: an SOS token starts every sequence.</summary>
    public static ConditioningConfig Unconditional { get; } = new() { Kind = ConditioningKind.Unconditional, Target = "__is_unconditional__" };

    /// <summary>The first stage's codes.</summary>
    public static ConditioningConfig FirstStage { get; } = new() { Kind = ConditioningKind.FirstStage, Target = VqganConditioningStage.FirstStageMarker };

    /// <summary>Class-conditional with <paramref name="nClasses"/> classes.</summary>
    public static ConditioningConfig ClassLabel(int nClasses) => new() { Kind = ConditioningKind.ClassLabel, NClasses = nClasses, Target = Labelator.UpstreamTarget };

    /// <summary>A separate conditioning VQGAN.</summary>
    public static ConditioningConfig SeparateVqgan(VqganConfig config, string? target = null) =>
        new() { Kind = ConditioningKind.Vqgan, Vqgan = config, Target = target ?? config.Target ?? VqganConfig.VQModelTarget };

    /// <summary>A coordinate stage.</summary>
    public static ConditioningConfig Coord(int nEmbed, int downFactor) =>
        new() { Kind = ConditioningKind.Coord, CoordNEmbed = nEmbed, CoordDownFactor = downFactor, Target = CoordStage.UpstreamTarget };

    /// <summary>A caption prefix of <paramref name="contextLength"/> tokens whose ids start at <paramref name="offset"/>.</summary>
    public static ConditioningConfig Caption(int offset, int contextLength, CaptionPlacement placement = CaptionPlacement.AsCaptioned) =>
        new() { Kind = ConditioningKind.Caption, CaptionOffset = offset, CaptionContextLength = contextLength, CaptionPlacement = placement, Target = CaptionConditioning.Target };

    /// <summary>The YAML spelling of a <see cref="CaptionPlacement"/> other than the default.</summary>
    public const string DrawnAtMiddle = "middle";

    /// <summary>A one-line description.</summary>
    public string Describe() => Kind switch
    {
        ConditioningKind.Unconditional => "unconditional (SOS token)",
        ConditioningKind.FirstStage => "the first stage's codes (__is_first_stage__)",
        ConditioningKind.ClassLabel => $"class label, {NClasses} classes (Labelator)",
        ConditioningKind.Vqgan => $"a separate VQGAN ({Target}; n_embed {Vqgan?.NEmbed}, in_channels {Vqgan?.DdConfig.InChannels})",
        ConditioningKind.Coord => $"coordinates (CoordStage, n_embed {CoordNEmbed}, down_factor {CoordDownFactor})",
        ConditioningKind.Caption => $"a caption ({CaptionConditioning.Target}, {CaptionContextLength} tokens from id {CaptionOffset}" +
            (CaptionPlacement == CaptionPlacement.Middle ? ", one-object scenes drawn in the middle)" : ")"),
        _ => Kind.ToString(),
    };
}
