using System.Text.Json;
using System.Text.RegularExpressions;
using SkiaSharp;
using VqganClip.Notebooks.Charts;

namespace VqganClip.Tests.Notebooks;

/// <summary>Reads what a formatter's HTML holds: the images (decoded independently with SkiaSharp) and the chart figures.</summary>
internal static class HtmlProbe
{
    private static readonly Regex DataUri = new("<img[^>]*src=\"data:image/png;base64,(?<b64>[A-Za-z0-9+/=]+)\"", RegexOptions.Compiled);

    public static IReadOnlyList<SKBitmap> Images(string html) =>
        DataUri.Matches(html).Select(m => SKBitmap.Decode(Convert.FromBase64String(m.Groups["b64"].Value))
                                          ?? throw new InvalidDataException("An <img> data URI is not a decodable PNG.")).ToList();

    public static IReadOnlyList<JsonElement> Figures(string html) =>
        ChartHtml.ExtractFigures(html).Select(j => JsonDocument.Parse(j).RootElement.Clone()).ToList();

    public static IReadOnlyList<JsonElement> Traces(JsonElement figure) => figure.GetProperty("data").EnumerateArray().ToList();

    public static string Name(JsonElement trace) => trace.GetProperty("name").GetString()!;

    /// <summary>An output's data for a MIME type, as written (string) or as read back from an .ipynb (JSON lines).</summary>
    public static string OutputText(IDictionary<string, object> data, string mime) => data[mime] switch
    {
        string s => s,
        JsonElement { ValueKind: JsonValueKind.Array } j => string.Concat(j.EnumerateArray().Select(x => x.GetString())),
        JsonElement j => j.GetString()!,
        var other => string.Concat(((System.Collections.IEnumerable)other).Cast<object>()),
    };

    /// <summary>
    /// A plain value's text as the kernel writes it: text/plain for strings; numbers and other values the C# kernel
    /// formats as text/html only, <c>&lt;div class="dni-plaintext"&gt;&lt;pre&gt;42&lt;/pre&gt;&lt;/div&gt;</c>.
    /// </summary>
    public static string PlainValue(IDictionary<string, object> data)
    {
        if (data.ContainsKey("text/plain")) return OutputText(data, "text/plain");
        var html = OutputText(data, "text/html");
        var pre = Regex.Match(html, "<div class=\"dni-plaintext\"><pre>(?<v>.*?)</pre></div>", RegexOptions.Singleline);
        if (!pre.Success) throw new InvalidDataException($"Neither text/plain nor a dni-plaintext value: {html}");
        return System.Net.WebUtility.HtmlDecode(pre.Groups["v"].Value);
    }

    public static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;
}
