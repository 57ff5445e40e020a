namespace VqganClip.Guidance.Prompts;

/// <summary>A prompt string that does not follow the prompt syntax; says where (1-based column) and why.</summary>
public sealed class PromptParseException : FormatException
{
    public PromptParseException(string input, int column, string problem)
        : base(Compose(input, column, problem))
    {
        Input = input;
        Column = column;
        Problem = problem;
    }

    /// <summary>The whole string that was being parsed.</summary>
    public string Input { get; }

    /// <summary>1-based column of the problem in <see cref="Input"/>.</summary>
    public int Column { get; }

    /// <summary>The reason alone, without the position and the caret line.</summary>
    public string Problem { get; }

    private static string Compose(string input, int column, string problem)
    {
        // One line that says what and where, then the input with a caret under the column (what a terminal user needs).
        var oneLine = input.Replace('\n', ' ').Replace('\r', ' ');
        var caret = new string(' ', Math.Max(0, column - 1)) + "^";
        return $"{problem} (column {column}).{Environment.NewLine}  {oneLine}{Environment.NewLine}  {caret}";
    }
}
