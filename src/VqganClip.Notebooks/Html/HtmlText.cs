using System.Globalization;

namespace VqganClip.Notebooks.Html;

/// <summary>Escaping and number formatting shared by every formatter (invariant culture: outputs are the same on every machine).</summary>
public static class HtmlText
{
    /// <summary>
    /// Escapes &amp; &lt; &gt; " ' only: pages and outputs are UTF-8, so other characters (×, é, emoji in prompts)
    /// stay readable in the HTML (WebUtility.HtmlEncode would turn Latin-1 letters into numeric entities).
    /// </summary>
    public static string Encode(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new System.Text.StringBuilder(text.Length + 16);
        foreach (var ch in text)
            sb.Append(ch switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&quot;", '\'' => "&#39;", _ => ch.ToString() });
        return sb.ToString();
    }

    /// <summary>A number the way tables show it: up to 4 significant digits, exponent form for very small/large values.</summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsInfinity(value)) return value > 0 ? "∞" : "-∞";
        double a = Math.Abs(value);
        if (a != 0 && (a < 1e-3 || a >= 1e6)) return value.ToString("0.###e+0", CultureInfo.InvariantCulture);
        return value.ToString("0.####", CultureInfo.InvariantCulture);
    }

    /// <summary>An integer count with thousands separators (1,234,567).</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A byte size in B/KiB/MiB/GiB.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : v.ToString("0.#", CultureInfo.InvariantCulture) + " " + units[u];
    }

    /// <summary>A JavaScript string literal (JSON string) safe to embed in a &lt;script&gt; element.</summary>
    public static string JsString(string text) =>
        System.Text.Json.JsonSerializer.Serialize(text).Replace("</", "<\\/", StringComparison.Ordinal);
}
