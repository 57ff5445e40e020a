using System.Globalization;
using VqganClip.Models.Vqgan;

namespace VqganClip.Models.Transformer;

/// <summary>
/// A taming Net2NetTransformer's configuration: <c>model.params</c> of its <c>*-project.yaml</c>
/// (<c>transformer_config</c>, <c>first_stage_config</c>, <c>cond_stage_config</c>, <c>permuter_config</c>,
/// <c>sos_token</c>, <c>unconditional</c>, keys, <c>downsample_cond_size</c>, <c>pkeep</c>). Build one by hand, from
/// YAML (<see cref="FromYaml"/>), or from a checkpoint's tensors (<see cref="TryInferFromStateDict"/>).
/// </summary>
public sealed partial record TransformerConfig
{
    /// <summary>The YAML <c>model.target</c> of a Net2NetTransformer.</summary>
    public const string Net2NetTarget = VqganConfig.Net2NetTransformerTarget;

    /// <summary>The GPT (<c>transformer_config.params</c>).</summary>
    public required GptConfig Gpt { get; init; }

    /// <summary>The first-stage VQGAN (<c>first_stage_config</c>); its tensors sit under <c>first_stage_model.</c>.</summary>
    public required VqganConfig FirstStage { get; init; }

    /// <summary>The conditioning stage (<c>cond_stage_config</c>).</summary>
    public required ConditioningConfig Conditioning { get; init; }

    /// <summary><c>permuter_config.target</c> (upstream's default: Identity).</summary>
    public string PermuterTarget { get; init; } = IdentityPermuter.UpstreamTarget;

    /// <summary><c>sos_token</c>: the start token of unconditional models (upstream default 0).</summary>
    public long SosToken { get; init; }

    /// <summary><c>first_stage_key</c>: the batch key of the images (upstream default "image").</summary>
    public string FirstStageKey { get; init; } = "image";

    /// <summary><c>cond_stage_key</c>: the batch key of the conditioning (upstream default "depth"; "class_label" for cIN).</summary>
    public string CondStageKey { get; init; } = "depth";

    /// <summary><c>downsample_cond_size</c>: resize the conditioning input to this side before encoding (-1: never).</summary>
    public int DownsampleCondSize { get; init; } = -1;

    /// <summary><c>pkeep</c>: during training each input image token is kept with this probability, else replaced by a random one (1: always kept).</summary>
    public double PKeep { get; init; } = 1.0;

    /// <summary>Where the configuration came from.</summary>
    public string Source { get; init; } = "constructed";

    /// <summary>True for unconditional models (SOS conditioning).</summary>
    public bool IsUnconditional => Conditioning.Kind == ConditioningKind.Unconditional;

    /// <summary>
    /// Checks that the parts fit together: each stage valid, every token the stages produce inside the GPT's
    /// vocabulary. Throws <see cref="ArgumentException"/> naming the values.
    /// </summary>
    public void Validate()
    {
        Gpt.Validate();
        FirstStage.Validate();
        int vocab = Gpt.VocabSize;
        if (FirstStage.NEmbed > vocab)
            throw Bad($"the first stage's codebook has n_embed = {FirstStage.NEmbed} codes but the GPT's vocab_size is {vocab}: image codes would fall outside the vocabulary.");
        switch (Conditioning.Kind)
        {
            case ConditioningKind.Unconditional:
                if (SosToken < 0 || SosToken >= vocab)
                    throw Bad($"sos_token {SosToken} is outside the GPT's vocabulary [0, {vocab}).");
                break;
            case ConditioningKind.ClassLabel:
                if (Conditioning.NClasses <= 0)
                    throw Bad($"Labelator n_classes must be positive (got {Conditioning.NClasses}).");
                if (Conditioning.NClasses > vocab)
                    throw Bad($"Labelator n_classes = {Conditioning.NClasses} but the GPT's vocab_size is {vocab}: class ids are GPT tokens, so they must fit in the vocabulary.");
                break;
            case ConditioningKind.Vqgan:
                if (Conditioning.Vqgan is null) throw Bad("the conditioning VQGAN has no configuration.");
                Conditioning.Vqgan.Validate();
                if (Conditioning.Vqgan.NEmbed > vocab)
                    throw Bad($"the conditioning VQGAN's codebook has n_embed = {Conditioning.Vqgan.NEmbed} codes but the GPT's vocab_size is {vocab}.");
                break;
            case ConditioningKind.Coord:
                if (Conditioning.CoordNEmbed <= 0 || Conditioning.CoordDownFactor <= 0)
                    throw Bad($"CoordStage n_embed and down_factor must be positive (got {Conditioning.CoordNEmbed}, {Conditioning.CoordDownFactor}).");
                if (Conditioning.CoordNEmbed > vocab)
                    throw Bad($"CoordStage n_embed = {Conditioning.CoordNEmbed} but the GPT's vocab_size is {vocab}.");
                break;
            case ConditioningKind.Caption:
                if (Conditioning.CaptionContextLength <= 0 || Conditioning.CaptionContextLength >= Gpt.BlockSize)
                    throw Bad($"the caption context_length must be in [1, block_size = {Gpt.BlockSize}) (got {Conditioning.CaptionContextLength}).");
                if (Conditioning.CaptionOffset < FirstStage.NEmbed || Conditioning.CaptionOffset >= vocab)
                    throw Bad($"the caption offset must be in [n_embed = {FirstStage.NEmbed}, vocab_size = {vocab}) so caption tokens follow the image codes (got {Conditioning.CaptionOffset}).");
                break;
        }
        if (double.IsNaN(PKeep) || PKeep <= 0 || PKeep > 1)
            throw Bad($"pkeep must be in (0, 1] (got {PKeep.ToString(CultureInfo.InvariantCulture)}).");
        if (DownsampleCondSize < -1 || DownsampleCondSize == 0)
            throw Bad($"downsample_cond_size must be -1 (off) or a positive side (got {DownsampleCondSize}).");
        TokenPermuters.FromTarget(PermuterTarget);
    }

    private ArgumentException Bad(string problem) => new($"Net2NetTransformer config ({Source}): {problem}");

    /// <summary>A readable multi-line summary.</summary>
    public string Describe() => string.Join(Environment.NewLine, new[]
    {
        $"Net2NetTransformer ({Source})",
        $"transformer: {Gpt.Describe()}",
        $"first stage: VQGAN n_embed {FirstStage.NEmbed}, embed_dim {FirstStage.EmbedDim}, f{FirstStage.DownsamplingFactor}",
        $"conditioning: {Conditioning.Describe()}" + (IsUnconditional ? $", sos_token {SosToken}" : ""),
        $"permuter: {PermuterTarget}",
    });
}
