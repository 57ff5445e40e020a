using Microsoft.ML.Tokenizers;

namespace VqganClip.Models.Clip;

/// <summary>
/// CLIP's text clean-up before pre-tokenization, in the reference's order:
/// <c>whitespace_clean(basic_clean(text)).lower()</c>, where <c>basic_clean</c> is
/// <c>ftfy.fix_text</c> (its deterministic subset, see <see cref="FtfySubset"/>), <c>html.unescape</c>
/// twice and <c>strip()</c>, and <c>whitespace_clean</c> collapses <c>\s+</c> to one space and strips.
/// Plugged into the BPE tokenizer as its normalizer.
/// </summary>
public sealed class ClipTextCleaner : Normalizer
{
    public static ClipTextCleaner Instance { get; } = new();

    /// <summary>The cleaned, lower-cased text that the pre-tokenizer splits.</summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string basic = PythonText.Strip(PythonHtml.Unescape(PythonHtml.Unescape(FtfySubset.FixText(text))));
        return PythonText.Lower(PythonText.CollapseWhitespace(basic));
    }

    public override string Normalize(string original) => Clean(original);

    public override string Normalize(ReadOnlySpan<char> original) => Clean(original.ToString());
}
