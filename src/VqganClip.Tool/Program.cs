using System.CommandLine;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Tool.Commands;
using VqganClip.Tool.Commands.Train;

// The toolkit's commands, then the ones that need the trainers and the clipart world.
var root = ToolkitCommands.CreateRoot();
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalModelsCommand.Create());
root.Subcommands.Single(c => c.Name == "bench").Subcommands.Add(BenchClipartCommand.Create());

return CliApp.Run(root, args);
