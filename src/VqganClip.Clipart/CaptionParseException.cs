namespace VqganClip.Clipart;

/// <summary>A caption outside the clipart grammar: says which word, where, and what was expected (the toolkit's own prompt syntax errors are <c>VqganClip.Guidance.Prompts.PromptParseException</c>).</summary>
public sealed class CaptionParseException : FormatException
{
    public CaptionParseException(string prompt, int wordIndex, int charIndex, string? word, string problem)
        : base(Describe(prompt, wordIndex, charIndex, word, problem))
    {
        Prompt = prompt;
        WordIndex = wordIndex;
        CharIndex = charIndex;
        Word = word;
        Problem = problem;
    }

    public string Prompt { get; }

    /// <summary>0-based index of the offending word (= number of words when the prompt ended too early).</summary>
    public int WordIndex { get; }

    /// <summary>0-based character offset of the offending word in <see cref="Prompt"/> (its length at the end).</summary>
    public int CharIndex { get; }

    /// <summary>The offending word, or null when the prompt ended too early.</summary>
    public string? Word { get; }

    public string Problem { get; }

    private static string Describe(string prompt, int wordIndex, int charIndex, string? word, string problem) =>
        word is null
            ? $"Cannot parse prompt \"{prompt}\": it ends too early (after word {wordIndex}): {problem}"
            : $"Cannot parse prompt \"{prompt}\": word {wordIndex + 1} '{word}' at character {charIndex}: {problem}";
}
