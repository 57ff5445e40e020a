using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace VqganClip.Models.Clip;

/// <summary>
/// Python's <c>html.unescape</c> (HTML5 rules), which CLIP's <c>basic_clean</c> applies twice.
/// Hand-written because <see cref="System.Net.WebUtility.HtmlDecode(string)"/> knows only the HTML4
/// entities, needs the semicolon (Python decodes "&amp;amp" too), and maps numeric references
/// differently (Python: &amp;#128; is €, &amp;#0; is U+FFFD, &amp;#1; vanishes).
/// The entity table (Data/html5-entities.tsv, embedded) was written from Python 3.11's
/// <c>html.entities.html5</c>, i.e. the WHATWG list.
/// </summary>
internal static partial class PythonHtml
{
    private static readonly Lazy<Dictionary<string, string>> LazyEntities = new(LoadEntities);

    /// <summary>Named references, keyed without the leading '&amp;' (with the ';' where the name has one).</summary>
    public static IReadOnlyDictionary<string, string> Entities => LazyEntities.Value;

    [GeneratedRegex(@"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)", RegexOptions.CultureInvariant)]
    private static partial Regex CharRef();

    public static string Unescape(string text) =>
        text.Contains('&') ? CharRef().Replace(text, m => ReplaceCharRef(m.Groups[1].Value)) : text;

    private static string ReplaceCharRef(string s)
    {
        if (s[0] == '#')
        {
            bool hex = s[1] is 'x' or 'X';
            string digits = s[(hex ? 2 : 1)..].TrimEnd(';');
            long num = ParseClamped(digits, hex);
            if (num == 0x00) return "\uFFFD";
            if (num == 0x0D) return "\r";
            if (num is >= 0x80 and <= 0x9F) return Windows1252C1[(int)num - 0x80].ToString();
            if (num is >= 0xD800 and <= 0xDFFF || num > 0x10FFFF) return "\uFFFD";
            if (IsInvalidCodePoint((int)num)) return "";
            return char.ConvertFromUtf32((int)num);
        }
        var entities = Entities;
        if (entities.TryGetValue(s, out var whole)) return whole;
        // The longest prefix that is a (legacy, semicolon-less) name, as the standard defines.
        for (int x = s.Length - 1; x > 1; x--)
            if (entities.TryGetValue(s[..x], out var prefix)) return prefix + s[x..];
        return "&" + s;
    }

    // Python parses arbitrarily long digit strings; anything past 0x10FFFF only needs to be "too big".
    private static long ParseClamped(string digits, bool hex)
    {
        long value = 0;
        foreach (char c in digits)
        {
            int d = hex ? Convert.ToInt32(c.ToString(), 16) : c - '0';
            value = value * (hex ? 16 : 10) + d;
            if (value > 0x10FFFF) return 0x110000;
        }
        return value;
    }

    /// <summary>Bytes 0x80..0x9F decoded as Windows-1252 (undefined ones stay as the C1 control).</summary>
    public const string Windows1252C1 =
        "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F" +
        "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";

    private static bool IsInvalidCodePoint(int cp) =>
        cp is (>= 0x1 and <= 0x8) or 0xB or (>= 0xE and <= 0x1F) or (>= 0x7F and <= 0x9F)
            or (>= 0xFDD0 and <= 0xFDEF)
        || (cp & 0xFFFE) == 0xFFFE;

    private static Dictionary<string, string> LoadEntities()
    {
        const string resource = "VqganClip.Models.Clip.Data.html5-entities.tsv";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource '{resource}' is missing from VqganClip.Models.dll.");
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var map = new Dictionary<string, string>(2300, StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int tab = line.IndexOf('\t');
            var sb = new StringBuilder(2);
            foreach (var hex in line[(tab + 1)..].Split(' '))
                sb.Append(char.ConvertFromUtf32(int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            map[line[..tab]] = sb.ToString();
        }
        return map;
    }
}
