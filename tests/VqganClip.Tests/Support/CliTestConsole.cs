using Spectre.Console;

namespace VqganClip.Tests;

/// <summary>A plain-text Spectre console writing into a string, for the command-line tests.</summary>
internal static class CliTestConsole
{
    public static (IAnsiConsole Console, StringWriter Output) Create(int width)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        return (console, output);
    }
}
