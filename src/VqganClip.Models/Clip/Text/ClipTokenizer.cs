using System.IO.Compression;
using System.Reflection;
using System.Text;
using Microsoft.ML.Tokenizers;
using TorchSharp;

namespace VqganClip.Models.Clip;

/// <summary>
/// OpenAI CLIP's byte-level BPE tokenizer (clip/simple_tokenizer.py + clip.tokenize), id for id.
/// <para>The BPE itself is Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> (byte-level, "&lt;/w&gt;" end-of-word
/// suffix, CLIP's vocabulary and merges, the two specials); it reproduces the reference's merges exactly.
/// What the library lacks, and is written here: CLIP's text clean-up (<see cref="ClipTextCleaner"/>: ftfy's
/// deterministic fixes, Python's html.unescape twice, white-space collapsing, Python's lower-casing), the
/// pre-tokenization regex with Python's code-point semantics (<see cref="ClipPreTokenizer"/>), and
/// <see cref="Decode"/> (the library drops the "&lt;/w&gt;" suffix where CLIP turns it into a space).</para>
/// <para>Known gap: ftfy's mojibake repair (fix_encoding) is not reproduced; see <see cref="FtfySubset"/>.</para>
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>CLIP's vocabulary file: a version header line, then merges, most frequent first.</summary>
    public const string VocabularyFileName = "bpe_simple_vocab_16e6.txt.gz";

    /// <summary>How many merge lines the reference uses: lines[1 : 49152-256-2+1].</summary>
    public const int ReferenceMergeCount = 49152 - 256 - 2;

    private const string EmbeddedVocabulary = "VqganClip.Models.Clip." + VocabularyFileName;

    private static readonly Lazy<ClipTokenizer> LazyDefault = new(LoadEmbedded);

    private readonly BpeTokenizer _bpe;
    private readonly string[] _idToToken;

    private ClipTokenizer(IReadOnlyList<string> merges)
    {
        // vocab = byte chars + the same with '</w>' + one entry per merge + the two specials.
        var vocab = new List<string>(512 + merges.Count + 2);
        foreach (var b in ByteUnicode.ReferenceOrder) vocab.Add(ByteUnicode.Encoder[b].ToString());
        foreach (var b in ByteUnicode.ReferenceOrder) vocab.Add(ByteUnicode.Encoder[b] + "</w>");
        foreach (var merge in merges) vocab.Add(merge.Replace(" ", "", StringComparison.Ordinal));
        StartOfTextId = vocab.Count;
        vocab.Add(StartOfText);
        EndOfTextId = vocab.Count;
        vocab.Add(EndOfText);
        _idToToken = vocab.ToArray();

        var ids = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocab.Count; i++) ids[vocab[i]] = i; // dict(zip(vocab, range)): a repeated token keeps its last id
        var specials = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [StartOfText] = StartOfTextId,
            [EndOfText] = EndOfTextId,
        };
        _bpe = BpeTokenizer.Create(new BpeOptions(ids)
        {
            Merges = merges,
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            SpecialTokens = specials,
            Normalizer = ClipTextCleaner.Instance,
            PreTokenizer = ClipPreTokenizer.Instance,
        });
    }

    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Id of &lt;|startoftext|&gt; (49406 with CLIP's vocabulary).</summary>
    public int StartOfTextId { get; }

    /// <summary>Id of &lt;|endoftext|&gt; (49407 with CLIP's vocabulary).</summary>
    public int EndOfTextId { get; }

    /// <summary>Number of ids (49408 with CLIP's vocabulary).</summary>
    public int VocabularySize => _idToToken.Length;

    /// <summary>The underlying Microsoft.ML.Tokenizers tokenizer (normalizer and pre-tokenizer included).</summary>
    public Tokenizer Inner => _bpe;

    /// <summary>CLIP's own vocabulary, embedded in VqganClip.Models.dll; loaded once, on first use. Thread-safe.</summary>
    public static ClipTokenizer Default => LazyDefault.Value;

    /// <summary>Loads a CLIP-format merges file (gzip-compressed if it ends in .gz, else plain UTF-8 text).</summary>
    public static ClipTokenizer FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"CLIP BPE vocabulary file not found: {path}", path);
        using var stream = File.OpenRead(path);
        return FromStream(stream, path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase), path);
    }

    /// <summary>Loads a CLIP-format merges file from a stream; <paramref name="source"/> names it in errors.</summary>
    public static ClipTokenizer FromStream(Stream stream, bool gzipped, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        List<string> merges;
        try
        {
            using var input = gzipped ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true) : stream;
            using var reader = new StreamReader(input, new UTF8Encoding(false, throwOnInvalidBytes: true), false, 1 << 16, leaveOpen: true);
            merges = ReadMerges(reader, source);
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException && !e.Message.StartsWith("CLIP BPE", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"CLIP BPE vocabulary '{source}' is not a readable {(gzipped ? "gzip-compressed " : "")}UTF-8 merges file: {e.Message}", e);
        }
        return new ClipTokenizer(merges);
    }

    // lines[1 : 49152-256-2+1]: skip the version header ("#version: 0.2"), keep the next 48894 merges and
    // stop reading there (the file holds ~262k, the reference ignores the rest).
    private static List<string> ReadMerges(TextReader reader, string source)
    {
        var merges = new List<string>(ReferenceMergeCount);
        if (reader.ReadLine() is null)
            throw new InvalidDataException($"CLIP BPE vocabulary '{source}' is empty.");
        int lineNumber = 1;
        while (merges.Count < ReferenceMergeCount && reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 && reader.Peek() < 0) break; // trailing newline
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"CLIP BPE vocabulary '{source}', line {lineNumber}: expected a merge \"left right\", got \"{Shorten(line, 60)}\".");
            merges.Add(line);
        }
        if (merges.Count == 0)
            throw new InvalidDataException($"CLIP BPE vocabulary '{source}' holds no merges.");
        return merges;
    }

    private static ClipTokenizer LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(EmbeddedVocabulary)
            ?? throw new InvalidOperationException($"Embedded resource '{EmbeddedVocabulary}' is missing from VqganClip.Models.dll.");
        return FromStream(stream, gzipped: true, source: "embedded " + VocabularyFileName);
    }

    /// <summary>BPE ids of <paramref name="text"/> after CLIP's clean-up, without start/end markers
    /// (SimpleTokenizer.encode).</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _bpe.EncodeToIds(text).ToArray();
    }

    /// <summary>SimpleTokenizer.decode: concatenates the tokens, turns the byte characters back into UTF-8
    /// (invalid sequences become U+FFFD) and every "&lt;/w&gt;" into a space.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var joined = new StringBuilder();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary (0..{_idToToken.Length - 1}).");
            joined.Append(_idToToken[id]);
        }
        var bytes = new byte[joined.Length];
        for (int i = 0; i < joined.Length; i++)
        {
            if (!ByteUnicode.Decoder.TryGetValue(joined[i], out bytes[i]))
                throw new InvalidOperationException($"Vocabulary token character U+{(int)joined[i]:X4} is not a byte character.");
        }
        return Encoding.UTF8.GetString(bytes).Replace("</w>", " ", StringComparison.Ordinal);
    }

    /// <summary>The vocabulary string of one id (e.g. "cat&lt;/w&gt;").</summary>
    public string IdToToken(int id) =>
        (uint)id < (uint)_idToToken.Length
            ? _idToToken[id]
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary (0..{_idToToken.Length - 1}).");

    /// <summary>
    /// clip.tokenize without TorchSharp: per text, [SOT, ids..., EOT] zero-padded to <paramref name="contextLength"/>.
    /// Too long: with <paramref name="truncate"/> the first <paramref name="contextLength"/> tokens are kept and the
    /// last one is replaced by EOT; without it an <see cref="ArgumentException"/> names the text and its length.
    /// </summary>
    public long[][] TokenizeToArray(IEnumerable<string> texts, int contextLength = 77, bool truncate = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        var rows = new List<long[]>();
        foreach (var text in texts)
        {
            if (text is null) throw new ArgumentException($"Text #{rows.Count} is null.", nameof(texts));
            int[] ids = Encode(text);
            int total = ids.Length + 2;
            if (total > contextLength && !truncate)
                throw new ArgumentException(
                    $"Text \"{Shorten(text, 60)}\" is {total} tokens long (including start and end markers), " +
                    $"more than the context length {contextLength}. Shorten it or tokenize with truncate: true.",
                    nameof(texts));
            var row = new long[contextLength];
            row[0] = StartOfTextId;
            int kept = Math.Min(ids.Length, contextLength - 1);
            for (int i = 0; i < kept; i++) row[i + 1] = ids[i];
            if (total <= contextLength) row[ids.Length + 1] = EndOfTextId;
            else row[contextLength - 1] = EndOfTextId; // tokens[:context_length]; tokens[-1] = eot_token
            rows.Add(row);
        }
        return rows.ToArray();
    }

    /// <summary>One text as a row of <see cref="TokenizeToArray"/>.</summary>
    public long[] TokenizeToArray(string text, int contextLength = 77, bool truncate = false) =>
        TokenizeToArray([text], contextLength, truncate)[0];

    /// <summary>clip.tokenize: a [N, <paramref name="contextLength"/>] int64 tensor on the CPU (see <see cref="TokenizeToArray(IEnumerable{string}, int, bool)"/>).</summary>
    public torch.Tensor Tokenize(IEnumerable<string> texts, int contextLength = 77, bool truncate = false)
    {
        var rows = TokenizeToArray(texts, contextLength, truncate);
        var flat = new long[rows.Length * contextLength];
        for (int i = 0; i < rows.Length; i++) rows[i].CopyTo(flat, i * contextLength);
        return torch.tensor(flat, new long[] { rows.Length, contextLength }, torch.int64);
    }

    /// <summary>clip.tokenize of one text: [1, <paramref name="contextLength"/>] int64.</summary>
    public torch.Tensor Tokenize(string text, int contextLength = 77, bool truncate = false) =>
        Tokenize([text], contextLength, truncate);

    private static string Shorten(string text, int max)
    {
        string oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
    }
}
