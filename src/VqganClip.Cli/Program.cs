using System.CommandLine;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Cli.Commands.Train;

var root = new RootCommand("vqgan-clip: VQGAN+CLIP text-to-image toolkit (TorchSharp)")
{
    InspectCommand.Create(),
    ScoreCommand.Create(),
    BenchClipCommand.Create(),
    BenchVqganCommand.Create(),
    GenerateCommand.Create(),
    BenchStepsCommand.Create(),
    NotebookCommand.Create(),
    TrainCommand.Create(),
    EvalCommand.Create(),
    BenchClipartCommand.Create(),
    EvalModelsCommand.Create(),
    BenchCommand.Create(),
};

return CliApp.Run(root, args);
