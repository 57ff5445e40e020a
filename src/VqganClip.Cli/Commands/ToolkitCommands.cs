using System.CommandLine;
using Spectre.Console;

namespace VqganClip.Cli.Commands;

/// <summary>The toolkit's commands in the order <c>--help</c> lists them: the main job first.</summary>
public static class ToolkitCommands
{
    public static RootCommand CreateRoot(IAnsiConsole? console = null) => new("vqgan-clip: VQGAN+CLIP text-to-image toolkit (TorchSharp)")
    {
        GenerateCommand.Create(console),
        InspectCommand.Create(console),
        ScoreCommand.Create(console),
        DreamCommand.Create(console),
        Pix2PixCommand.Create(console),
        NotebookCommand.Create(console),
        BenchCommand.Create(console),
    };
}
