using System.Text.Json;
using VqganClip.Models.Clip;

namespace VqganClip.Tests.Clip;

/// <summary>Golden cases written by the reference (SimpleTokenizer / clip.tokenize) into fixtures/tokenizer-visible/cases.json.</summary>
public class TokenizerTests
{
    public sealed record GoldenCase(string Text, int[] BpeIds, string Decoded, bool TooLong, long[]? Tokens77, long[] Tokens77Truncate)
    {
        public override string ToString() => Text.Length > 40 ? Text[..40] + "…" : Text;
    }

    private static readonly Lazy<List<GoldenCase>> Cases = new(LoadCases);

    private static List<GoldenCase> LoadCases()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenizer-visible", "cases.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var list = new List<GoldenCase>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            long[]? tokens77 = c.TryGetProperty("tokens_77", out var t77) && t77.ValueKind == JsonValueKind.Array
                ? t77.EnumerateArray().Select(e => e.GetInt64()).ToArray()
                : null;
            list.Add(new GoldenCase(
                c.GetProperty("text").GetString()!,
                c.GetProperty("bpe_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                c.GetProperty("decoded").GetString()!,
                c.GetProperty("too_long").GetBoolean(),
                tokens77,
                c.GetProperty("tokens_77_truncate").EnumerateArray().Select(e => e.GetInt64()).ToArray()));
        }
        return list;
    }

    public static IEnumerable<object[]> CaseIndices() => Enumerable.Range(0, Cases.Value.Count).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Encode_matches_reference_bpe_ids(int index)
    {
        var c = Cases.Value[index];
        Assert.Equal(c.BpeIds, ClipTokenizer.Default.Encode(c.Text));
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Decode_matches_reference(int index)
    {
        var c = Cases.Value[index];
        Assert.Equal(c.Decoded, ClipTokenizer.Default.Decode(c.BpeIds));
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void TokenizeToArray_matches_clip_tokenize_or_raises(int index)
    {
        var c = Cases.Value[index];
        if (c.TooLong)
        {
            var e = Assert.Throws<ArgumentException>(() => ClipTokenizer.Default.TokenizeToArray([c.Text]));
            Assert.Contains($"{c.BpeIds.Length + 2} tokens", e.Message);
            Assert.Contains("context length 77", e.Message);
            Assert.Contains(c.Text[..20], e.Message);
        }
        else
        {
            Assert.Equal(c.Tokens77, ClipTokenizer.Default.TokenizeToArray([c.Text])[0]);
        }
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void TokenizeToArray_truncate_matches_clip_tokenize(int index)
    {
        var c = Cases.Value[index];
        Assert.Equal(c.Tokens77Truncate, ClipTokenizer.Default.TokenizeToArray([c.Text], truncate: true)[0]);
    }

    [Fact]
    public void Golden_cases_cover_the_interesting_kinds()
    {
        Assert.True(Cases.Value.Count >= 20);
        Assert.Contains(Cases.Value, c => c.TooLong);
    }

    [Fact]
    public void Tokenize_returns_an_int64_tensor_of_the_rows()
    {
        var texts = Cases.Value.Where(c => !c.TooLong).Take(3).Select(c => c.Text).ToArray();
        using var tokens = ClipTokenizer.Default.Tokenize(texts);
        Assert.Equal(new long[] { 3, 77 }, tokens.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, tokens.dtype);
        var expected = Cases.Value.Where(c => !c.TooLong).Take(3).SelectMany(c => c.Tokens77!).ToArray();
        Assert.Equal(expected, tokens.data<long>().ToArray());
        using var single = ClipTokenizer.Default.Tokenize("a red circle", contextLength: 16);
        Assert.Equal(new long[] { 1, 16 }, single.shape);
        var tooLong = Cases.Value.First(c => c.TooLong).Text;
        Assert.Throws<ArgumentException>(() => ClipTokenizer.Default.Tokenize([tooLong]));
        using var truncated = ClipTokenizer.Default.Tokenize([tooLong], truncate: true);
        Assert.Equal(49407L, truncated[0, 76].item<long>());
    }

    [Fact]
    public void Special_ids_and_vocabulary_size_are_clips()
    {
        var t = ClipTokenizer.Default;
        Assert.Equal(49406, t.StartOfTextId);
        Assert.Equal(49407, t.EndOfTextId);
        Assert.Equal(49408, t.VocabularySize);
        Assert.Equal("<|endoftext|>", t.IdToToken(49407));
        Assert.Equal("a</w>", t.IdToToken(320));
    }

    [Fact]
    public void Custom_context_length_pads_and_truncates()
    {
        var t = ClipTokenizer.Default;
        Assert.Equal(new long[] { 49406, 320, 736, 7117, 49407, 0, 0, 0 }, t.TokenizeToArray("a red circle", contextLength: 8));
        Assert.Equal(new long[] { 49406, 320, 49407 }, t.TokenizeToArray("a red circle", contextLength: 3, truncate: true));
        Assert.Throws<ArgumentException>(() => t.TokenizeToArray("a red circle", contextLength: 4));
    }

    [Theory]
    [InlineData("Don\u2019t", "Don't")]                 // ftfy uncurls quotes
    [InlineData("\u201Cquoted\u201D", "\"quoted\"")]
    [InlineData("\uFB01sh \uFB02ower", "fish flower")]  // ftfy splits Latin ligatures
    [InlineData("\uFF21\uFF22\uFF23\u3000\uFF11\uFF12", "ABC 12")] // ftfy: full width to standard width
    [InlineData("cafe\u0301", "café")]                  // NFC
    [InlineData("\u001b[31mred\u001b[0m", "red")]        // terminal escapes removed
    [InlineData("a\u0000b\uFEFF", "ab")]                // control characters removed
    [InlineData("&amp;amp;amp;", "&")]                  // ftfy unescapes until stable, then html.unescape twice
    [InlineData("&lt;3 &quot;hi&quot; &#39;x&#39;", "<3 \"hi\" 'x'")]
    [InlineData("Tom &amp Jerry", "Tom & Jerry")]       // html.unescape decodes the legacy no-semicolon form
    [InlineData("a\r\nb\u2028c\td  e", "a b c d e")]
    public void Clean_up_equivalences(string input, string equivalent)
    {
        var t = ClipTokenizer.Default;
        Assert.Equal(t.Encode(equivalent), t.Encode(input));
    }

    [Theory]
    [InlineData("<b>&amp;amp;amp;</b>", "<b>&amp;</b>")] // a '<' on the line turns ftfy's unescape off; html.unescape twice remains
    [InlineData("  Tom &amp;amp; JERRY\n\n", "tom & jerry")]
    [InlineData("ΟΔΥΣΣΕΥΣ  \u00A0 ΣΑΣ", "οδυσσευς σας")]
    public void Clean_applies_basic_clean_whitespace_clean_and_lower(string input, string expected)
    {
        Assert.Equal(expected, ClipTextCleaner.Clean(input));
    }

    [Theory]
    [InlineData("ΟΔΥΣΣΕΥΣ", "οδυσσευς")]
    [InlineData("ΣΑΣ ΣΑΣ", "σας σας")]
    [InlineData("Σ", "σ")]
    [InlineData("ΑΣ.", "ας.")]
    [InlineData("A\u00ADΣ", "a\u00ADς")]
    [InlineData("İstanbul", "i\u0307stanbul")]
    [InlineData("ǅ", "ǆ")]
    public void Lower_matches_python_str_lower(string input, string pythonLower) // expected values printed by CPython 3.11
    {
        Assert.Equal(pythonLower, PythonText.Lower(input));
    }

    [Theory]
    [InlineData("&amp", "&")]
    [InlineData("&amp;amp;", "&amp;")]
    [InlineData("&#128;", "€")]
    [InlineData("&#x80;", "€")]
    [InlineData("&notit;", "¬it;")]
    [InlineData("&#0;", "\uFFFD")]
    [InlineData("&#1;x", "x")]
    [InlineData("&#xD800;", "\uFFFD")]
    [InlineData("&#99999999999;", "\uFFFD")]
    [InlineData("&lt3", "<3")]
    [InlineData("&Eacute;", "É")]
    [InlineData("&bogus;", "&bogus;")]
    [InlineData("a &nbsp b", "a \u00A0 b")]
    [InlineData("&#38;#39;", "&#39;")]
    public void Html_unescape_matches_python(string input, string expected) // expected values printed by CPython 3.11
    {
        Assert.Equal(expected, PythonHtml.Unescape(input));
    }

    [Fact]
    public void Pre_tokenizer_treats_astral_letters_and_digits_as_python_does()
    {
        // U+20000 (CJK Ext. B) is one \p{L} code point in Python; U+1D7D9 (𝟙) one \p{N}.
        Assert.Equal(new[] { "a\U00020000b", "\U0001D7D9", "\U0001D7D9", "'s", "x", "!?'", "sx" },
            ClipPreTokenizer.SplitToStrings("a\U00020000b \U0001D7D9\U0001D7D9's x!?'sx").ToArray());
        Assert.Equal(new[] { "<|endoftext|>", "'ll", "ſ" }, ClipPreTokenizer.SplitToStrings("<|endoftext|>'llſ").ToArray());
    }

    [Fact]
    public void Special_tokens_inside_text_map_to_their_ids()
    {
        Assert.Equal(new[] { 49406, 320, 49407 }, ClipTokenizer.Default.Encode("<|startoftext|>a<|endoftext|>"));
    }

    [Fact]
    public void Decode_round_trips_encode_for_clean_text()
    {
        var t = ClipTokenizer.Default;
        const string text = "a cat 🐈 on the 東京 tower, 1999!";
        Assert.Equal(text + " ", t.Decode(t.Encode(text)).Replace(" ,", ",").Replace(" !", "!").Replace("1 9 9 9", "1999"));
    }

    [Fact]
    public void Decode_rejects_unknown_ids()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ClipTokenizer.Default.Decode([320, 60000]));
        Assert.Contains("60000", e.Message);
    }

    [Fact]
    public void FromFile_reads_the_repository_vocabulary_and_names_missing_or_corrupt_files()
    {
        var dir = Directory.CreateTempSubdirectory("cliptok");
        try
        {
            var missing = Path.Combine(dir.FullName, "nope.txt.gz");
            var e1 = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFile(missing));
            Assert.Contains(missing, e1.Message);

            var corrupt = Path.Combine(dir.FullName, "corrupt.txt.gz");
            File.WriteAllBytes(corrupt, [0x1f, 0x8b, 8, 0, 1, 2, 3]);
            var e2 = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFile(corrupt));
            Assert.Contains(corrupt, e2.Message);

            // A small plain-text merges file: its own vocabulary, specials after the merges.
            var small = Path.Combine(dir.FullName, "small.txt");
            File.WriteAllText(small, "#version: 0.2\nc a\nca t</w>\n");
            var t = ClipTokenizer.FromFile(small);
            Assert.Equal(514, t.StartOfTextId);
            Assert.Equal(new[] { 513 }, t.Encode("cat"));
            Assert.Equal("cat ", t.Decode([513]));
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
