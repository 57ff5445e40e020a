using System.Text;
using System.Text.RegularExpressions;

namespace VqganClip.Models.Clip;

/// <summary>
/// The deterministic part of <c>ftfy.fix_text</c> (ftfy 6, default <c>TextFixerConfig</c>), which CLIP's
/// <c>basic_clean</c> runs first. Per line, repeated until nothing changes: ftfy's HTML unescape (skipped
/// once a line containing '&lt;' was seen), C1 controls read as Windows-1252, Latin ligatures split,
/// full/half-width forms to standard width, curly quotes straightened, line breaks to '\n', lone
/// surrogates to U+FFFD, terminal escapes and unwanted control characters removed, then NFC.
/// <para>NOT done: <c>fix_encoding</c> (mojibake detection such as "cafÃ©" → "café"), a heuristic that
/// needs ftfy's character-class tables and badness scoring; text that ftfy would re-decode therefore
/// tokenizes differently from the reference. No .NET port of ftfy is served, hence this hand-written subset.</para>
/// </summary>
internal static partial class FtfySubset
{
    public static string FixText(string text)
    {
        var output = new StringBuilder(text.Length);
        bool unescapeHtml = true;
        int pos = 0;
        while (pos < text.Length)
        {
            int lineEnd = text.IndexOf('\n', pos) + 1;
            if (lineEnd == 0) lineEnd = text.Length;
            string segment = text[pos..lineEnd];
            // ftfy turns entity decoding off for the rest of the text once a line looks like HTML.
            if (unescapeHtml && segment.Contains('<')) unescapeHtml = false;
            output.Append(FixSegment(segment, unescapeHtml));
            pos = lineEnd;
        }
        return output.ToString();
    }

    private static string FixSegment(string text, bool unescapeHtml)
    {
        while (true)
        {
            string original = text;
            if (unescapeHtml) text = UnescapeHtml(text);
            text = FixC1Controls(text);
            text = Translate(text, LatinLigature);
            text = Translate(text, StandardWidth);
            text = UncurlQuotes(text);
            text = text.Replace("\r\n", "\n").Replace('\r', '\n').Replace('\u2028', '\n')
                       .Replace('\u2029', '\n').Replace('\u0085', '\n');
            text = FixSurrogates(text);
            text = TerminalEscape().Replace(text, "");
            text = Translate(text, c => IsUnwantedControl(c) ? "" : null);
            text = text.Normalize(NormalizationForm.FormC);
            if (text == original) return text;
        }
    }

    [GeneratedRegex(@"&#?[0-9A-Za-z]{1,24};", RegexOptions.CultureInvariant)]
    private static partial Regex FtfyEntity();

    [GeneratedRegex(@"\x1b\[((?:\d|;)*)([a-zA-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex TerminalEscape();

    private static readonly Lazy<Dictionary<string, string>> LazyFtfyEntities = new(BuildFtfyEntities);

    // ftfy.fixes.unescape_html: only complete "&name;" references (plus all-caps variants such as
    // "&EACUTE;"), and numeric ones only when html.unescape consumes the whole reference.
    private static string UnescapeHtml(string text) =>
        text.Contains('&')
            ? FtfyEntity().Replace(text, m =>
            {
                string s = m.Value;
                if (LazyFtfyEntities.Value.TryGetValue(s, out var named)) return named;
                if (s.StartsWith("&#", StringComparison.Ordinal))
                {
                    string unescaped = PythonHtml.Unescape(s);
                    return unescaped.Contains(';') ? s : unescaped;
                }
                return s;
            })
            : text;

    // chardata._build_html_entities
    private static Dictionary<string, string> BuildFtfyEntities()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in PythonHtml.Entities)
        {
            if (!name.EndsWith(';')) continue;
            map["&" + name] = value;
            if (name == name.ToLowerInvariant())
            {
                string upper = "&" + name.ToUpperInvariant();
                if (PythonHtml.Unescape(upper) == upper) map[upper] = PythonUpper(value);
            }
        }
        return map;
    }

    // str.upper() for entity values: full mappings where one character becomes several.
    private static string PythonUpper(string value)
    {
        var sb = new StringBuilder();
        foreach (char c in value)
            sb.Append(c switch
            {
                'ß' => "SS",
                'ŉ' => "\u02BCN",
                '\uFB00' => "FF",
                '\uFB01' => "FI",
                '\uFB02' => "FL",
                '\uFB03' => "FFI",
                '\uFB04' => "FFL",
                '\uFB05' or '\uFB06' => "ST",
                _ => char.ToUpperInvariant(c).ToString(),
            });
        return sb.ToString();
    }

    private static string FixC1Controls(string text)
    {
        foreach (char c in text)
            if (c is >= '\u0080' and <= '\u009F')
                return Translate(text, ch => ch is >= '\u0080' and <= '\u009F' ? PythonHtml.Windows1252C1[ch - 0x80].ToString() : null);
        return text;
    }

    private static string? LatinLigature(char c) => c switch
    {
        'Ĳ' => "IJ", 'ĳ' => "ij", 'ŉ' => "\u02BCn",
        'Ǳ' => "DZ", 'ǲ' => "Dz", 'ǳ' => "dz", 'Ǆ' => "DŽ", 'ǅ' => "Dž", 'ǆ' => "dž",
        'Ǉ' => "LJ", 'ǈ' => "Lj", 'ǉ' => "lj", 'Ǌ' => "NJ", 'ǋ' => "Nj", 'ǌ' => "nj",
        '\uFB00' => "ff", '\uFB01' => "fi", '\uFB02' => "fl", '\uFB03' => "ffi", '\uFB04' => "ffl",
        '\uFB05' => "ſt", '\uFB06' => "st",
        _ => null,
    };

    // chardata._build_width_map: U+3000 to space, U+FF01..U+FFEF to their NFKC form.
    private static string? StandardWidth(char c)
    {
        if (c == '\u3000') return " ";
        if (c is < '\uFF01' or > '\uFFEF') return null;
        string alternate = c.ToString().Normalize(NormalizationForm.FormKC);
        return alternate == c.ToString() ? null : alternate;
    }

    private static string UncurlQuotes(string text)
    {
        var chars = text.ToCharArray();
        bool changed = false;
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            if (c is '\u02BC' or (>= '\u2018' and <= '\u201B')) { chars[i] = '\''; changed = true; }
            else if (c is >= '\u201C' and <= '\u201F') { chars[i] = '"'; changed = true; }
        }
        return changed ? new string(chars) : text;
    }

    private static string FixSurrogates(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool paired = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (paired)
            {
                sb?.Append(c).Append(text[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                sb ??= new StringBuilder(text, 0, i, text.Length);
                sb.Append('\uFFFD');
            }
            else sb?.Append(c);
        }
        return sb?.ToString() ?? text;
    }

    private static bool IsUnwantedControl(char c) =>
        c is (>= '\u0000' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F'
            or (>= '\u206A' and <= '\u206F') or '\uFEFF' or (>= '\uFFF9' and <= '\uFFFC');

    private static string Translate(string text, Func<char, string?> map)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            string? replacement = map(text[i]);
            if (replacement is null)
            {
                sb?.Append(text[i]);
                continue;
            }
            sb ??= new StringBuilder(text, 0, i, text.Length + 8);
            sb.Append(replacement);
        }
        return sb?.ToString() ?? text;
    }
}
