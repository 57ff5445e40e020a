using System.CommandLine;
using Spectre.Console;

namespace VqganClip.Cli;

/// <summary>Runs the root command: 0 ok, 1 for user errors (one red line, no stack trace).</summary>
public static class CliApp
{
    public static int Run(RootCommand root, string[] args, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        try
        {
            // The one error path: commands throw, this prints the one red line (see UserErrors).
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (UserErrors.IsUserError(e))
        {
            UserErrors.Report(console, e);
            return UserErrors.UserError;
        }
    }
}
