using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static VqganClip.Models.Transformer.TamingYamlFields;

namespace VqganClip.Models.Transformer;

/// <summary>Reading a Net2NetTransformer's taming YAML (the <c>*-project.yaml</c> of its Lightning log folder).</summary>
public sealed partial record TransformerConfig
{
    /// <summary>taming's segmentation VQGAN (S-FLCKR's conditioning stage): a VQModel plus a colorize buffer.</summary>
    public const string VQSegmentationModelTarget = "taming.models.vqgan.VQSegmentationModel";

    /// <summary>The cond_stage_config marker for unconditional models.</summary>
    public const string UnconditionalMarker = "__is_unconditional__";

    /// <summary>
    /// Reads <c>model.target</c> (must be <see cref="Net2NetTarget"/>) and <c>model.params</c>:
    /// <c>transformer_config</c> (mingpt.GPT: vocab_size and block_size required; n_layer, n_head, n_embd,
    /// n_unmasked, *_pdrop with upstream's defaults), <c>first_stage_config</c> (a VQModel or GumbelVQ),
    /// <c>cond_stage_config</c> (a mapping: Labelator, VQModel / VQSegmentationModel / GumbelVQ, CoordStage,
    /// SOSProvider; or <c>__is_first_stage__</c> / <c>__is_unconditional__</c>), <c>permuter_config</c>,
    /// <c>sos_token</c>, <c>unconditional</c>, <c>first_stage_key</c>, <c>cond_stage_key</c>,
    /// <c>downsample_cond_size</c>, <c>pkeep</c>. <paramref name="pathOrText"/> is a file path or the YAML text.
    /// </summary>
    /// <exception cref="FileNotFoundException">A path that does not exist.</exception>
    /// <exception cref="InvalidDataException">Not YAML, not a Net2NetTransformer config, or an unsupported part; the message names the key.</exception>
    public static TransformerConfig FromYaml(string pathOrText)
    {
        ArgumentNullException.ThrowIfNull(pathOrText);
        if (File.Exists(pathOrText))
        {
            if (StandInFiles.Describe(pathOrText, "a transformer config") is { } standIn)
                throw new InvalidDataException(standIn.Message);
            var full = Path.GetFullPath(pathOrText);
            return Parse(File.ReadAllText(pathOrText), $"YAML '{full}'", full);
        }
        bool looksLikePath = pathOrText.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || pathOrText.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        if (pathOrText.Contains('\n') || pathOrText.Contains(':') && !looksLikePath)
            return Parse(pathOrText, "YAML text", "YAML text");
        throw new FileNotFoundException($"Transformer config '{pathOrText}' does not exist.", pathOrText);
    }

    private static TransformerConfig Parse(string text, string where, string source)
    {
        var fields = new TamingYamlFields(where);
        var top = ParseDocument(text, where) as IDictionary<object, object?>
            ?? throw fields.Invalid("not a taming-transformers config: expected a mapping with 'model: {target, params}'.");
        var model = Map(top, "model") ?? (Get(top, "target") is not null ? top : null)
            ?? throw fields.Invalid("not a taming-transformers config: it has no 'model' section (expected model.target and model.params).");

        var target = Scalar(model, "target") ?? throw fields.Missing("model.target");
        if (target != Net2NetTarget)
        {
            if (target is VqganConfig.VQModelTarget or VqganConfig.GumbelVQTarget)
                throw fields.Invalid($"model.target is {target}: this config describes a VQGAN (first stage), not a Net2NetTransformer. Load it with VqganModel.Load.");
            throw fields.Invalid($"model.target '{target}' is not supported; a transformer config has target {Net2NetTarget}.");
        }
        var parameters = Map(model, "params") ?? throw fields.Missing("model.params");
        const string at = "model.params";

        var gpt = ParseGpt(fields, Map(parameters, "transformer_config") ?? throw fields.Missing($"{at}.transformer_config"), $"{at}.transformer_config", source);

        var firstStageMap = Map(parameters, "first_stage_config") ?? throw fields.Missing($"{at}.first_stage_config");
        var firstStage = VqganConfig.FromYamlMapping(firstStageMap, $"{at}.first_stage_config", where, source)
            with { StateDictPrefix = Net2NetTransformer.FirstStagePrefix };

        bool unconditional = fields.Bool(parameters, "unconditional", false, at);
        var conditioning = ParseConditioning(fields, parameters, unconditional, where, source, out var sosFromStage);

        string? permuter = null;
        if (Get(parameters, "permuter_config") is { } permuterValue)
        {
            var permuterMap = permuterValue as IDictionary<object, object?> ?? throw fields.Invalid($"'{at}.permuter_config' should be a mapping with a target.");
            permuter = Scalar(permuterMap, "target") ?? throw fields.Missing($"{at}.permuter_config.target");
        }

        string firstStageKey = Scalar(parameters, "first_stage_key") ?? "image";
        var config = new TransformerConfig
        {
            Gpt = gpt,
            FirstStage = firstStage,
            Conditioning = conditioning,
            PermuterTarget = permuter ?? IdentityPermuter.UpstreamTarget,
            SosToken = fields.Long(parameters, "sos_token", sosFromStage ?? 0, at),
            FirstStageKey = firstStageKey,
            // upstream: an unconditional model reads its (ignored) conditioning from the image key
            CondStageKey = conditioning.Kind == ConditioningKind.Unconditional ? firstStageKey : Scalar(parameters, "cond_stage_key") ?? "depth",
            DownsampleCondSize = fields.Int(parameters, "downsample_cond_size", -1, at),
            PKeep = fields.Double(parameters, "pkeep", 1.0, at),
            Source = source,
        };
        try
        {
            config.Validate();
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw fields.Invalid(e.Message);
        }
        return config;
    }

    private static GptConfig ParseGpt(TamingYamlFields fields, IDictionary<object, object?> map, string at, string source)
    {
        var target = Scalar(map, "target") ?? throw fields.Missing($"{at}.target");
        if (target != GptConfig.GptTarget)
            throw fields.Invalid($"{at}.target '{target}' is not supported; only {GptConfig.GptTarget} is.");
        var p = Map(map, "params") ?? throw fields.Missing($"{at}.params");
        string pAt = $"{at}.params";
        // GPT's keyword defaults: n_layer=12, n_head=8, n_embd=256, pdrops 0, n_unmasked 0
        return new GptConfig
        {
            VocabSize = fields.RequiredInt(p, "vocab_size", pAt),
            BlockSize = fields.RequiredInt(p, "block_size", pAt),
            NLayer = fields.Int(p, "n_layer", 12, pAt),
            NHead = fields.Int(p, "n_head", 8, pAt),
            NEmbd = fields.Int(p, "n_embd", 256, pAt),
            NUnmasked = fields.Int(p, "n_unmasked", 0, pAt),
            EmbdPdrop = fields.Double(p, "embd_pdrop", 0.0, pAt),
            ResidPdrop = fields.Double(p, "resid_pdrop", 0.0, pAt),
            AttnPdrop = fields.Double(p, "attn_pdrop", 0.0, pAt),
            Source = source,
        };
    }

    private static ConditioningConfig ParseConditioning(TamingYamlFields fields, IDictionary<object, object?> parameters, bool unconditional,
        string where, string source, out long? sosFromStage)
    {
        const string at = "model.params.cond_stage_config";
        sosFromStage = null;
        var value = Get(parameters, "cond_stage_config") ?? throw fields.Missing(at);
        // upstream's order: __is_first_stage__ first, then __is_unconditional__ or unconditional=True, then a model
        if (value is string marker)
        {
            if (marker == VqganConditioningStage.FirstStageMarker) return ConditioningConfig.FirstStage;
            if (marker == UnconditionalMarker) return ConditioningConfig.Unconditional;
            throw fields.Invalid($"{at} is '{marker}'; expected a mapping with a target, {VqganConditioningStage.FirstStageMarker} or {UnconditionalMarker}.");
        }
        if (unconditional) return ConditioningConfig.Unconditional;
        var map = value as IDictionary<object, object?> ?? throw fields.Invalid($"{at} should be a mapping with a target.");
        var target = Scalar(map, "target") ?? throw fields.Missing($"{at}.target");
        var p = Map(map, "params");
        string pAt = $"{at}.params";
        switch (target)
        {
            case Labelator.UpstreamTarget:
                return ConditioningConfig.ClassLabel(fields.RequiredInt(p ?? throw fields.Missing(pAt), "n_classes", pAt));
            case SosProvider.UpstreamTarget:
                sosFromStage = p is null ? 0 : fields.Long(p, "sos_token", 0, pAt);
                return ConditioningConfig.Unconditional;
            case CoordStage.UpstreamTarget:
                p = p ?? throw fields.Missing(pAt);
                return ConditioningConfig.Coord(fields.RequiredInt(p, "n_embed", pAt), fields.RequiredInt(p, "down_factor", pAt));
            case CaptionConditioning.Target:
                p = p ?? throw fields.Missing(pAt);
                return ConditioningConfig.Caption(fields.RequiredInt(p, "offset", pAt), fields.RequiredInt(p, "context_length", pAt),
                    Scalar(p, "drawn_at") switch
                    {
                        null => CaptionPlacement.AsCaptioned,
                        ConditioningConfig.DrawnAtMiddle => CaptionPlacement.Middle,
                        var other => throw fields.Invalid($"'{pAt}.drawn_at' should be '{ConditioningConfig.DrawnAtMiddle}' or absent (drawn where the caption says), got '{other}'."),
                    });
            case VqganConfig.VQModelTarget:
            case VqganConfig.GumbelVQTarget:
            case VQSegmentationModelTarget:
            {
                // VQSegmentationModel has a VQModel's weights (plus a colorize buffer for display): read it as one.
                var asVq = target == VQSegmentationModelTarget
                    ? new Dictionary<object, object?>(map) { ["target"] = VqganConfig.VQModelTarget }
                    : map;
                var vq = VqganConfig.FromYamlMapping(asVq, at, where, source) with { StateDictPrefix = Net2NetTransformer.CondStagePrefix, Target = target };
                return ConditioningConfig.SeparateVqgan(vq, target);
            }
            default:
                throw fields.Invalid(
                    $"{at}.target '{target}' is not supported; supported conditioning stages are {Labelator.UpstreamTarget}, {SosProvider.UpstreamTarget}, " +
                    $"{CoordStage.UpstreamTarget}, {CaptionConditioning.Target} (the toolkit's own), a VQGAN ({VqganConfig.VQModelTarget}, {VQSegmentationModelTarget}, {VqganConfig.GumbelVQTarget}), " +
                    $"{VqganConditioningStage.FirstStageMarker} and {UnconditionalMarker}.");
        }
    }
}
