using System.CommandLine;
using Spectre.Console;

namespace VqganClip.Cli.Commands;

/// <summary><c>vqgan-clip bench loop|clip|vqgan|steps|transformer|biggan|stylegan|audioclip</c>: benchmarks that print figures (never timed tests).</summary>
public static class BenchCommand
{
    public static Command Create(IAnsiConsole? console = null) => new("bench", "Benchmarks: print speed and memory figures")
    {
        BenchLoopCommand.Create(console),
        BenchClipCommand.Create(),
        BenchVqganCommand.Create(console),
        BenchStepsCommand.Create(),
        BenchTransformerCommand.Create(console),
        BenchBigGanCommand.Create(console),
        BenchStyleGanCommand.Create(console),
        BenchAudioClipCommand.Create(console),
    };
}
