using System.CommandLine;
using VqganClip.Cli.Commands;
var root = new RootCommand("vqgan-clip")
{
    GenerateCommand.Create(),
    BenchStepsCommand.Create(),
};
return root.Parse(args).Invoke();
