using System.Text.Json;
using System.Text.RegularExpressions;
using SkiaSharp;
using VqganClip.Notebooks.Charts;

namespace VqganClip.Tests.Notebooks;

/// <summary>Reads what a formatter's HTML holds: the images (decoded independently with SkiaSharp) and the chart figures.</summary>
internal static class HtmlProbe
{
    private static readonly Regex Img = new("<img[^>]*>", RegexOptions.Compiled);
    private static readonly Regex DataUri = new("src=\"data:image/png;base64,(?<b64>[A-Za-z0-9+/=]+)\"", RegexOptions.Compiled);

    /// <summary>
    /// An image as an output shows it: its true size (data-width/data-height) and the PNG shown, which must be exactly
    /// that size times a whole factor (data-scale) and made of scale×scale blocks of one colour (nearest neighbour).
    /// </summary>
    public sealed record ShownImage(int Width, int Height, int Scale, SKBitmap Png);

    public static IReadOnlyList<ShownImage> Images(string html) => Img.Matches(html).Select(m => Shown(m.Value)).Where(i => i is not null).Select(i => i!).ToList();

    private static ShownImage? Shown(string img)
    {
        var uri = DataUri.Match(img);
        if (!uri.Success) return null;
        var png = SKBitmap.Decode(Convert.FromBase64String(uri.Groups["b64"].Value)) ?? throw new InvalidDataException("An <img> data URI is not a decodable PNG.");
        int Attribute(string name) => int.Parse(Regex.Match(img, $"{name}=\"(?<v>\\d+)\"") is { Success: true } a ? a.Groups["v"].Value
            : throw new InvalidDataException($"<img> without {name}: {img[..Math.Min(200, img.Length)]}"));
        var shown = new ShownImage(Attribute("data-width"), Attribute("data-height"), Attribute("data-scale"), png);
        if ((png.Width, png.Height) != (shown.Width * shown.Scale, shown.Height * shown.Scale))
            throw new InvalidDataException($"A {shown.Width}×{shown.Height} image shown {shown.Scale}× is a {png.Width}×{png.Height} PNG.");
        for (int y = 0; y < png.Height; y++)
            for (int x = 0; x < png.Width; x++)
                if (png.GetPixel(x, y) != png.GetPixel(x - x % shown.Scale, y - y % shown.Scale))
                    throw new InvalidDataException($"The enlarged PNG is not nearest-neighbour at ({x}, {y}).");
        return shown;
    }

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
