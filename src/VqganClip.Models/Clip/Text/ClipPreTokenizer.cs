using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace VqganClip.Models.Clip;

/// <summary>
/// CLIP's pre-tokenization regex, applied like Python's <c>regex.findall</c>:
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// with IGNORECASE. At each position the alternatives are tried in order and the first that matches
/// wins; positions where none matches (white space) are skipped.
/// Hand-written instead of a .NET <see cref="System.Text.RegularExpressions.Regex"/> because .NET
/// classifies UTF-16 code units: a letter or digit outside the BMP (e.g. U+20000, U+1D7D9) is two
/// surrogates of category Cs there, but one \p{L}/\p{N} code point in Python.
/// </summary>
public sealed class ClipPreTokenizer : PreTokenizer
{
    public static ClipPreTokenizer Instance { get; } = new();

    private static readonly string[] Literals =
        ["<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    /// <summary>The pre-tokens of already cleaned text, as strings.</summary>
    public static IEnumerable<string> SplitToStrings(string text) =>
        Split(text.AsSpan()).Select(t => text.Substring(t.Offset, t.Length));

    private static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var tokens = new List<(int, int)>();
        int pos = 0;
        while (pos < text.Length)
        {
            int length = MatchAt(text, pos);
            if (length > 0)
            {
                tokens.Add((pos, length));
                pos += length;
            }
            else
            {
                pos += RuneLength(text, pos); // white space: no alternative matches here
            }
        }
        return tokens;
    }

    private static int MatchAt(ReadOnlySpan<char> text, int pos)
    {
        foreach (var literal in Literals)
            if (MatchesIgnoreCase(text[pos..], literal)) return literal.Length;

        var kind = Classify(text, pos);
        if (kind == CharKind.Letter)
        {
            int end = pos;
            while (end < text.Length && Classify(text, end) == CharKind.Letter) end += RuneLength(text, end);
            return end - pos;
        }
        if (kind == CharKind.Number) return RuneLength(text, pos); // [\p{N}] is a single code point
        if (kind == CharKind.Other)
        {
            int end = pos;
            while (end < text.Length && Classify(text, end) == CharKind.Other) end += RuneLength(text, end);
            return end - pos;
        }
        return 0;
    }

    // IGNORECASE in the regex module folds simply: of the letters in these literals only 's' has
    // another lower-case form that folds to it (U+017F LATIN SMALL LETTER LONG S).
    private static bool MatchesIgnoreCase(ReadOnlySpan<char> text, string literal)
    {
        if (text.Length < literal.Length) return false;
        for (int i = 0; i < literal.Length; i++)
        {
            char c = text[i], l = literal[i];
            if (c == l || char.ToLowerInvariant(c) == l) continue;
            if (l == 's' && c == '\u017F') continue;
            return false;
        }
        return true;
    }

    private enum CharKind { Space, Letter, Number, Other }

    private static CharKind Classify(ReadOnlySpan<char> text, int pos)
    {
        if (Rune.DecodeFromUtf16(text[pos..], out var rune, out _) != OperationStatus.Done)
            return CharKind.Other; // a lone surrogate is neither space, letter nor number
        if (PythonText.IsRegexSpace(rune.Value)) return CharKind.Space;
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return CharKind.Letter;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                return CharKind.Number;
            default:
                return CharKind.Other;
        }
    }

    private static int RuneLength(ReadOnlySpan<char> text, int pos) =>
        char.IsHighSurrogate(text[pos]) && pos + 1 < text.Length && char.IsLowSurrogate(text[pos + 1]) ? 2 : 1;
}
