namespace VqganClip.Models.IO;

/// <summary>
/// The one exception every reader throws for a file it cannot trust: truncated, corrupted,
/// hostile or simply not what it claims. The message names the file, the format and the problem.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string path, string format, string problem, Exception? inner = null)
        : this(path, format, problem, $"{format} file '{path}': {problem}", inner)
    {
    }

    private CheckpointFormatException(string path, string format, string problem, string message, Exception? inner)
        : base(message, inner)
    {
        FilePath = path;
        Format = format;
        Problem = problem;
    }

    /// <summary>For a problem that is the whole story and already names the file ("'x.ckpt' is an HTML page, ...").</summary>
    public static CheckpointFormatException ForWholeFile(string path, string format, string problem) =>
        new(path, format, problem, problem, null);

    public string FilePath { get; }
    public string Format { get; }
    public string Problem { get; }
}
