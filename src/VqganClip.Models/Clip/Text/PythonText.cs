using System.Globalization;
using System.Text;

namespace VqganClip.Models.Clip;

/// <summary>
/// The few Python <c>str</c> semantics CLIP's reference tokenizer depends on, where .NET differs:
/// <c>str.lower()</c> uses full case mapping (U+0130 becomes two code points) and the Final_Sigma rule
/// (a word-final capital sigma becomes ς, not σ); <c>str.isspace()</c>/<c>strip()</c> also treat
/// U+001C..U+001F as space; the <c>regex</c> module's <c>\s</c> is the Unicode White_Space property
/// (what .NET's <see cref="Rune.IsWhiteSpace"/> tests). Hand-written because no served library
/// reproduces Python's string rules.
/// </summary>
internal static class PythonText
{
    /// <summary><c>\s</c> of the <c>regex</c> module: the Unicode White_Space property.</summary>
    public static bool IsRegexSpace(int codePoint) =>
        codePoint <= 0xFFFF && char.IsWhiteSpace((char)codePoint);

    /// <summary><c>str.isspace()</c> for one code point: White_Space plus the separators U+001C..U+001F.</summary>
    public static bool IsStrSpace(int codePoint) =>
        IsRegexSpace(codePoint) || codePoint is >= 0x1C and <= 0x1F;

    /// <summary><c>str.strip()</c> with no argument.</summary>
    public static string Strip(string text)
    {
        int start = 0, end = text.Length;
        while (start < end && IsStrSpace(text[start])) start++;
        while (end > start && IsStrSpace(text[end - 1])) end--;
        return start == 0 && end == text.Length ? text : text[start..end];
    }

    /// <summary><c>re.sub(r'\s+', ' ', text).strip()</c> with the <c>regex</c> module's <c>\s</c>.</summary>
    public static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool inSpace = false;
        foreach (char c in text)
        {
            if (IsRegexSpace(c))
            {
                if (!inSpace) sb.Append(' ');
                inSpace = true;
            }
            else
            {
                sb.Append(c);
                inSpace = false;
            }
        }
        return Strip(sb.ToString());
    }

    /// <summary><c>str.lower()</c>: full lowercase mapping, including Final_Sigma.</summary>
    public static string Lower(string text)
    {
        var runes = new List<Rune>(text.Length);
        foreach (var r in text.EnumerateRunes()) runes.Add(r);
        var sb = new StringBuilder(text.Length + 4);
        for (int i = 0; i < runes.Count; i++)
        {
            int cp = runes[i].Value;
            if (cp == 0x0130)
                sb.Append("i\u0307"); // the only unconditional multi-code-point lowercase mapping (SpecialCasing.txt)
            else if (cp == 0x03A3)
                sb.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
            else
                sb.Append(Rune.ToLowerInvariant(runes[i]).ToString());
        }
        return sb.ToString();
    }

    // CPython's handle_capital_sigma: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})
    private static bool IsFinalSigma(List<Rune> runes, int i)
    {
        int j = i - 1;
        while (j >= 0 && IsCaseIgnorable(runes[j])) j--;
        if (j < 0 || !IsCased(runes[j])) return false;
        j = i + 1;
        while (j < runes.Count && IsCaseIgnorable(runes[j])) j++;
        return j == runes.Count || !IsCased(runes[j]);
    }

    // Unicode "Cased": Lu, Ll, Lt, plus Other_Lowercase / Other_Uppercase (the main ranges).
    private static bool IsCased(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        if (cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter)
            return true;
        int cp = r.Value;
        return cp is 0xAA or 0xBA or (>= 0x2B0 and <= 0x2B8) or 0x2C0 or 0x2C1 or (>= 0x2E0 and <= 0x2E4)
            or 0x345 or 0x37A or (>= 0x1D2C and <= 0x1D6A) or 0x1D78 or (>= 0x1D9B and <= 0x1DBF)
            or 0x2071 or 0x207F or (>= 0x2090 and <= 0x209C) or (>= 0x2160 and <= 0x217F)
            or (>= 0x24B6 and <= 0x24E9) or 0x2C7C or 0x2C7D or 0xA69C or 0xA69D or 0xA770
            or 0xA7F8 or 0xA7F9 or (>= 0xAB5C and <= 0xAB5F)
            or (>= 0x1F130 and <= 0x1F149) or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189);
    }

    // Unicode "Case_Ignorable": Mn, Me, Cf, Lm, Sk, and Word_Break MidLetter / MidNumLet / Single_Quote.
    private static bool IsCaseIgnorable(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        if (cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol)
            return true;
        return r.Value is '\'' or '.' or ':' or 0xB7 or 0x387 or 0x55F or 0x5F4 or 0x2018 or 0x2019
            or 0x2024 or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
    }
}
