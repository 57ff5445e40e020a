using Spectre.Console;
using VqganClip.Models.IO;

namespace VqganClip.Cli;

/// <summary>
/// Exit codes and the one-line red error the CLI prints for mistakes a user can fix (missing file,
/// unreadable checkpoint, bad argument) instead of a stack trace. Anything else is a bug and keeps its trace.
/// </summary>
public static class UserErrors
{
    public const int Ok = 0;
    public const int UserError = 1;

    public static bool IsUserError(Exception e) => e is CheckpointFormatException or FileNotFoundException
        or DirectoryNotFoundException or ArgumentException or UnauthorizedAccessException or InvalidDataException;

    /// <summary>Runs a command body; a user error becomes a red line on <paramref name="console"/> and exit code 1.</summary>
    public static int Guard(IAnsiConsole console, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Report(console, e);
            return UserError;
        }
    }

    public static void Report(IAnsiConsole console, Exception e) =>
        console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message.ReplaceLineEndings(" "))}");
}
