namespace VqganClip.Models.IO;

/// <summary>
/// The one exception every reader throws for a file it cannot trust: truncated, corrupted,
/// hostile or simply not what it claims. The message names the file, the format and the problem.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string path, string format, string problem, Exception? inner = null)
        : base($"{format} file '{path}': {problem}", inner)
    {
        FilePath = path;
        Format = format;
        Problem = problem;
    }

    public string FilePath { get; }
    public string Format { get; }
    public string Problem { get; }
}
