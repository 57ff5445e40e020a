using System.Collections;
using System.Globalization;
using System.Reflection;

namespace VqganClip.Notebooks.Views;

/// <summary>A configuration object's public properties as key/value texts (nested records flattened as "a.b").</summary>
public static class ConfigProperties
{
    public static IReadOnlyList<(string Key, string Value)> Of(object? config, int maxDepth = 2)
    {
        var pairs = new List<(string, string)>();
        if (config is not null) Collect(config, "", maxDepth, pairs);
        return pairs;
    }

    private static void Collect(object value, string prefix, int depth, List<(string, string)> pairs)
    {
        foreach (var p in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.Name == "EqualityContract") continue;
            object? v;
            try { v = p.GetValue(value); }
            catch (TargetInvocationException) { continue; }
            var key = prefix + p.Name;
            if (v is null) pairs.Add((key, "null"));
            else if (IsScalar(v)) pairs.Add((key, Format(v)));
            else if (v is IEnumerable seq) pairs.Add((key, "[" + string.Join(", ", seq.Cast<object?>().Take(32).Select(x => x is null ? "null" : Format(x))) + "]"));
            else if (depth > 0) Collect(v, key + ".", depth - 1, pairs);
            else pairs.Add((key, v.ToString() ?? ""));
        }
    }

    private static bool IsScalar(object v) => v is string or bool or Enum || v.GetType().IsPrimitive || v is decimal;

    private static string Format(object v) => v switch
    {
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        double d => d.ToString("G8", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
