using Spectre.Console;
using VqganClip.Models.Audio;
using VqganClip.Models.IO;

namespace VqganClip.Cli;

/// <summary>
/// Exit codes and the one-line red error the CLI prints for mistakes a user can fix (missing file, unreadable
/// checkpoint, bad argument, a prompt that does not parse) instead of a stack trace: the one error path of every
/// command (<see cref="CliApp.Run"/>); commands throw and never print their own error lines. Anything else is a bug
/// and keeps its trace.
/// </summary>
public static class UserErrors
{
    public const int Ok = 0;
    public const int UserError = 1;

    /// <summary>
    /// A mistake the user can fix: a missing or unreadable file, a bad argument, text that does not parse (prompts,
    /// schedules: <see cref="FormatException"/>), a notebook format the runner does not take.
    /// </summary>
    public static bool IsUserError(Exception e) => e is CheckpointFormatException or AudioFormatException or FileNotFoundException
        or DirectoryNotFoundException or ArgumentException or UnauthorizedAccessException or InvalidDataException
        or FormatException or NotSupportedException;

    public static void Report(IAnsiConsole console, Exception e) =>
        console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message.ReplaceLineEndings(" "))}");
}
