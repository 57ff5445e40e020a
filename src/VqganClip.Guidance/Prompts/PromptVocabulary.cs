using System.Text.RegularExpressions;

namespace VqganClip.Guidance.Prompts;

/// <summary>
/// The words a CLIP saw in the captions it was trained on, read from a text file beside its checkpoint
/// (<c>clipart-clip.safetensors</c> → <c>clipart-clip.vocab.txt</c>). A small CLIP trained on a closed world of
/// captions knows nothing of other words: a prompt that uses them guides towards noise without any error, so
/// callers warn with <see cref="UnknownWords"/>. CLIPs without such a file (OpenAI's) know open English and get none.
/// File format: one word a line, grouped under <c>[group]</c> headings (e.g. objects, colours); <c>#</c> starts a comment.
/// </summary>
public sealed partial class PromptVocabulary
{
    public const string Extension = ".vocab.txt";

    private readonly HashSet<string> _words;

    public PromptVocabulary(IReadOnlyList<(string Group, IReadOnlyList<string> Words)> groups)
    {
        Groups = groups;
        _words = groups.SelectMany(g => g.Words).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The words by group, in the file's order.</summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Words)> Groups { get; }

    /// <summary>Every word, lower case.</summary>
    public IReadOnlySet<string> Words => _words;

    /// <summary>The vocabulary file of a CLIP checkpoint: same folder and name, <see cref="Extension"/>.</summary>
    public static string PathBeside(string clipPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(clipPath))!;
        return Path.Combine(dir, Path.GetFileNameWithoutExtension(clipPath) + Extension);
    }

    /// <summary>The vocabulary beside <paramref name="clipPath"/>, or null when it has none.</summary>
    public static PromptVocabulary? Beside(string clipPath)
    {
        var path = PathBeside(clipPath);
        return File.Exists(path) ? Parse(File.ReadAllLines(path)) : null;
    }

    /// <summary>Reads the file format (see the class summary).</summary>
    public static PromptVocabulary Parse(IEnumerable<string> lines)
    {
        var groups = new List<(string, IReadOnlyList<string>)>();
        string group = "words";
        var words = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                if (words.Count > 0) groups.Add((group, words));
                group = line[1..^1].Trim();
                words = [];
            }
            else words.Add(line.ToLowerInvariant());
        }
        if (words.Count > 0) groups.Add((group, words));
        return new PromptVocabulary(groups);
    }

    /// <summary>The words of <paramref name="text"/> (letters only, lower case) this vocabulary lacks, each once, in order.</summary>
    public IReadOnlyList<string> UnknownWords(string text) =>
        Word().Matches(text.ToLowerInvariant()).Select(m => m.Value).Where(w => !_words.Contains(w)).Distinct().ToList();

    /// <summary>"objects: circle, square; colours: red, blue; ...".</summary>
    public string Describe() => string.Join("; ", Groups.Select(g => $"{g.Group}: {string.Join(", ", g.Words)}"));

    [GeneratedRegex("[a-z]+")]
    private static partial Regex Word();
}
