using System.CommandLine;
using VqganClip.Cli;
using VqganClip.Cli.Commands;

var root = new RootCommand("vqgan-clip: VQGAN+CLIP text-to-image toolkit (TorchSharp)")
{
    InspectCommand.Create(),
    ScoreCommand.Create(),
    BenchClipCommand.Create(),
    BenchCommand.Create(),
};

return CliApp.Run(root, args);
