using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace VqganClip.Models.Transformer;

/// <summary>
/// Reading fields of a parsed taming YAML (YamlDotNet's untyped tree: mappings, lists and string scalars), with
/// messages that name the file and the key. PyYAML/OmegaConf conventions: YAML 1.1 booleans, ~/null for none.
/// </summary>
internal sealed class TamingYamlFields
{
    public TamingYamlFields(string where) => Where = where;

    /// <summary>Names the file (or "YAML text") in messages.</summary>
    public string Where { get; }

    public static object? ParseDocument(string text, string where)
    {
        try
        {
            return new DeserializerBuilder().Build().Deserialize<object?>(text);
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{where} is not valid YAML: {e.Message}", e);
        }
    }

    public InvalidDataException Missing(string key) => new($"{Where} is not a usable taming-transformers config: '{key}' is missing.");

    public InvalidDataException Invalid(string problem) => new($"{Where}: {problem}");

    public static object? Get(IDictionary<object, object?> map, string key) => map.TryGetValue(key, out var value) ? value : null;

    public static IDictionary<object, object?>? Map(IDictionary<object, object?> map, string key) => Get(map, key) as IDictionary<object, object?>;

    public static string? Scalar(IDictionary<object, object?> map, string key)
    {
        var s = Get(map, key) as string;
        return s is null || s == "~" || s.Length == 0 || s.Equals("null", StringComparison.OrdinalIgnoreCase) ? null : s;
    }

    public int RequiredInt(IDictionary<object, object?> map, string key, string at) =>
        ParseInt(Scalar(map, key) ?? throw Missing($"{at}.{key}"), $"{at}.{key}");

    public int Int(IDictionary<object, object?> map, string key, int fallback, string at) =>
        Scalar(map, key) is { } s ? ParseInt(s, $"{at}.{key}") : fallback;

    public long Long(IDictionary<object, object?> map, string key, long fallback, string at)
    {
        var s = Scalar(map, key);
        if (s is null) return fallback;
        return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Invalid($"'{at}.{key}' should be an integer, got '{s}'.");
    }

    public double Double(IDictionary<object, object?> map, string key, double fallback, string at)
    {
        var s = Scalar(map, key);
        if (s is null) return fallback;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Invalid($"'{at}.{key}' should be a number, got '{s}'.");
    }

    public bool Bool(IDictionary<object, object?> map, string key, bool fallback, string at)
    {
        var s = Scalar(map, key);
        if (s is null) return fallback;
        switch (s.ToLowerInvariant())
        {
            case "true": case "yes": case "on": return true;
            case "false": case "no": case "off": return false;
            default: throw Invalid($"'{at}.{key}' should be true or false, got '{s}'.");
        }
    }

    private int ParseInt(string s, string key) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Invalid($"'{key}' should be an integer, got '{s}'.");
}
