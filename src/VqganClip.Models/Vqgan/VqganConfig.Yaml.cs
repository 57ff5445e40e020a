using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using VqganClip.Models.IO;

namespace VqganClip.Models.Vqgan;

/// <summary>Reading taming-transformers YAML configs (the <c>*-project.yaml</c> / model.yaml that ship with checkpoints).</summary>
public sealed partial record VqganConfig
{
    public const string VQModelTarget = "taming.models.vqgan.VQModel";
    public const string GumbelVQTarget = "taming.models.vqgan.GumbelVQ";
    public const string Net2NetTransformerTarget = "taming.models.cond_transformer.Net2NetTransformer";

    /// <summary>
    /// Reads a taming config: <c>model.target</c> (VQModel, GumbelVQ, or a Net2NetTransformer whose
    /// <c>first_stage_config</c> is one) and <c>model.params</c> (embed_dim, n_embed, ddconfig, remap,
    /// sane_index_shape; lossconfig and the rest are ignored). <paramref name="pathOrText"/> is a file
    /// path, or the YAML text itself when it contains a line break or no such file exists and it parses.
    /// </summary>
    /// <exception cref="FileNotFoundException">A path that does not exist (and is not YAML text).</exception>
    /// <exception cref="InvalidDataException">Not YAML, not a taming config, or an unsupported target; the message says what is missing.</exception>
    public static VqganConfig FromYaml(string pathOrText)
    {
        ArgumentNullException.ThrowIfNull(pathOrText);
        if (File.Exists(pathOrText))
        {
            if (StandInFiles.Describe(pathOrText, "a VQGAN config") is { } standIn)
                throw new InvalidDataException(standIn.Message);
            return Parse(File.ReadAllText(pathOrText), Path.GetFullPath(pathOrText));
        }
        if (pathOrText.Contains('\n') || pathOrText.Contains(':') && !LooksLikePath(pathOrText))
            return Parse(pathOrText, null);
        throw new FileNotFoundException($"VQGAN config '{pathOrText}' does not exist.", pathOrText);
    }

    private static bool LooksLikePath(string s) =>
        s.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || s.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private static VqganConfig Parse(string text, string? path)
    {
        string where = path is null ? "YAML text" : $"YAML '{path}'";
        object? root;
        try
        {
            root = new DeserializerBuilder().Build().Deserialize<object?>(text);
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{where} is not valid YAML: {e.Message}", e);
        }

        var top = root as IDictionary<object, object?>
            ?? throw new InvalidDataException($"{where} is not a taming-transformers config: expected a mapping with 'model: {{target, params}}'.");
        // taming's configs put everything under `model:`; accept a bare `{target, params}` too.
        var model = Get(top, "model") as IDictionary<object, object?> ?? (Get(top, "target") is not null ? top : null)
            ?? throw new InvalidDataException($"{where} is not a taming-transformers config: it has no 'model' section (expected model.target and model.params).");

        var config = ParseModel(model, "model", where);
        var source = path ?? "YAML text";
        return config with { Source = source };
    }

    /// <summary>
    /// Reads one taming model mapping (<c>{target, params}</c>) that is already parsed, such as a Net2NetTransformer's
    /// <c>first_stage_config</c> or <c>cond_stage_config</c>. <paramref name="at"/> names its place in the file for
    /// messages, <paramref name="where"/> the file; the result's <see cref="Source"/> is <paramref name="source"/>.
    /// </summary>
    internal static VqganConfig FromYamlMapping(IDictionary<object, object?> model, string at, string where, string source) =>
        ParseModel(model, at, where) with { Source = source };

    private static VqganConfig ParseModel(IDictionary<object, object?> model, string at, string where)
    {
        var target = Scalar(model, "target") ?? throw Missing(where, $"{at}.target");
        var parameters = Get(model, "params") as IDictionary<object, object?> ?? throw Missing(where, $"{at}.params");

        switch (target)
        {
            case VQModelTarget:
            case GumbelVQTarget:
                break;
            case Net2NetTransformerTarget:
            {
                // COCO / FacesHQ / S-FLCKR downloads: a transformer whose first stage is the VQGAN.
                var firstStage = Get(parameters, "first_stage_config") as IDictionary<object, object?>
                    ?? throw Missing(where, $"{at}.params.first_stage_config");
                var inner = ParseModel(firstStage, $"{at}.params.first_stage_config", where);
                return inner with { StateDictPrefix = "first_stage_model." + inner.StateDictPrefix };
            }
            default:
                throw new InvalidDataException(
                    $"{where}: {at}.target '{target}' is not supported; supported targets are {VQModelTarget}, {GumbelVQTarget} " +
                    $"and {Net2NetTransformerTarget} (its first stage).");
        }

        var dd = Get(parameters, "ddconfig") as IDictionary<object, object?> ?? throw Missing(where, $"{at}.params.ddconfig");
        string ddAt = $"{at}.params.ddconfig";
        string? attnType = Scalar(dd, "attn_type");
        if (attnType is not null && attnType != "vanilla")
            throw new InvalidDataException($"{where}: {ddAt}.attn_type '{attnType}' is not supported (only taming's vanilla attention).");
        if (Bool(dd, "use_linear_attn", false, where, ddAt))
            throw new InvalidDataException($"{where}: {ddAt}.use_linear_attn is not supported (only taming's vanilla attention).");

        var ddConfig = new VqganDdConfig
        {
            DoubleZ = Bool(dd, "double_z", true, where, ddAt),
            ZChannels = RequiredInt(dd, "z_channels", where, ddAt),
            Resolution = RequiredInt(dd, "resolution", where, ddAt),
            InChannels = RequiredInt(dd, "in_channels", where, ddAt),
            OutCh = RequiredInt(dd, "out_ch", where, ddAt),
            Ch = RequiredInt(dd, "ch", where, ddAt),
            ChMult = IntList(dd, "ch_mult", where, ddAt) ?? new[] { 1, 2, 4, 8 },
            NumResBlocks = RequiredInt(dd, "num_res_blocks", where, ddAt),
            AttnResolutions = IntList(dd, "attn_resolutions", where, ddAt) ?? throw Missing(where, $"{ddAt}.attn_resolutions"),
            Dropout = Double(dd, "dropout", 0.0, where, ddAt),
            ResampWithConv = Bool(dd, "resamp_with_conv", true, where, ddAt),
            GivePreEnd = Bool(dd, "give_pre_end", false, where, ddAt),
            TanhOut = Bool(dd, "tanh_out", false, where, ddAt),
        };

        bool gumbel = target == GumbelVQTarget;
        var config = new VqganConfig
        {
            Kind = gumbel ? VqganKind.GumbelVQ : VqganKind.VQModel,
            Target = target,
            EmbedDim = RequiredInt(parameters, "embed_dim", where, $"{at}.params"),
            NEmbed = RequiredInt(parameters, "n_embed", where, $"{at}.params"),
            DdConfig = ddConfig,
            Remap = NullableScalar(parameters, "remap"),
            CkptPath = NullableScalar(parameters, "ckpt_path"),
            // VQModel/GumbelVQ don't pass unknown_index on; the quantizers' default is "random".
            SaneIndexShape = !gumbel && Bool(parameters, "sane_index_shape", false, where, $"{at}.params"),
            KlWeight = gumbel ? Double(parameters, "kl_weight", 1e-8, where, $"{at}.params") : 1e-8,
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
        return config;
    }

    private static InvalidDataException Missing(string where, string key) =>
        new($"{where} is not a usable taming-transformers config: '{key}' is missing.");

    private static object? Get(IDictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? value : null;

    private static string? Scalar(IDictionary<object, object?> map, string key) => Get(map, key) as string;

    private static string? NullableScalar(IDictionary<object, object?> map, string key)
    {
        var s = Scalar(map, key);
        return s is null || s == "~" || s.Equals("null", StringComparison.OrdinalIgnoreCase) || s.Length == 0 ? null : s;
    }

    private static int RequiredInt(IDictionary<object, object?> map, string key, string where, string at)
    {
        var s = NullableScalar(map, key) ?? throw Missing(where, $"{at}.{key}");
        return ParseInt(s, where, $"{at}.{key}");
    }

    private static int ParseInt(string s, string where, string key) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"{where}: '{key}' should be an integer, got '{s}'.");

    private static double Double(IDictionary<object, object?> map, string key, double fallback, string where, string at)
    {
        var s = NullableScalar(map, key);
        if (s is null) return fallback;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"{where}: '{at}.{key}' should be a number, got '{s}'.");
    }

    private static bool Bool(IDictionary<object, object?> map, string key, bool fallback, string where, string at)
    {
        var s = NullableScalar(map, key);
        if (s is null) return fallback;
        // PyYAML / OmegaConf read YAML 1.1 booleans.
        switch (s.ToLowerInvariant())
        {
            case "true": case "yes": case "on": return true;
            case "false": case "no": case "off": return false;
            default: throw new InvalidDataException($"{where}: '{at}.{key}' should be true or false, got '{s}'.");
        }
    }

    private static int[]? IntList(IDictionary<object, object?> map, string key, string where, string at)
    {
        var value = Get(map, key);
        if (value is null) return null;
        if (value is not IList<object?> list)
            throw new InvalidDataException($"{where}: '{at}.{key}' should be a list of integers.");
        return list.Select(item => item as string ?? throw new InvalidDataException($"{where}: '{at}.{key}' should be a list of integers."))
            .Select(s => ParseInt(s, where, $"{at}.{key}"))
            .ToArray();
    }
}
