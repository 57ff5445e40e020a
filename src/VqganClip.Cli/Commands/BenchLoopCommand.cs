using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli.Benchmarking;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip bench loop --config A|B|C [--steps N] [--threads T] [--json]</c>: seconds per step of the classic
/// VQGAN+CLIP loop through the toolkit (random weights for A and B, the tiny fixture models for C), peak memory,
/// the step's estimated FLOP and the GFLOP/s it reaches against this machine's measured sgemm and 3x3-convolution
/// rates. A benchmark that prints figures, not a test. (<c>bench clip</c> and <c>bench vqgan</c> time the two
/// networks alone.)
/// </summary>
public static class BenchLoopCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var config = new Option<string>("--config")
        {
            Description = "A: vqgan_imagenet_f16_16384 + ViT-B/32, 256x256, cutn 32; B: same models, 128x128, cutn 16; C: tiny fixture models, 64x64, cutn 8",
            DefaultValueFactory = _ => "C",
        };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after the warm-up)", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps first", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads (0: libtorch's default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables" };
        var clip = new Option<FileInfo?>("--clip") { Description = "A CLIP checkpoint instead of the configuration's model" };
        var vqgan = new Option<FileInfo?>("--vqgan") { Description = "A VQGAN checkpoint instead of the configuration's model" };
        var vqganConfig = new Option<FileInfo?>("--vqgan-config") { Description = "The taming YAML of --vqgan (else found beside it or inferred)" };
        var noCeiling = new Option<bool>("--no-ceiling") { Description = "Skip measuring the machine's sgemm and conv3x3 rates" };
        var profile = new Option<int>("--profile") { Description = "Then time each phase of a step over this many extra steps", DefaultValueFactory = _ => 0 };

        var command = new Command("loop", "Seconds per guidance step, peak memory, FLOP and GFLOP/s against the machine's ceiling")
        {
            config, steps, warmup, threads, json, clip, vqgan, vqganConfig, noCeiling, profile,
        };
        command.SetAction(parse =>
        {
            var output = console ?? AnsiConsole.Console;
            var setup = BenchSetup.For(parse.GetValue(config)!, parse.GetValue(clip)?.FullName,
                parse.GetValue(vqgan)?.FullName, parse.GetValue(vqganConfig)?.FullName);
            var options = new BenchOptions
            {
                Steps = parse.GetValue(steps),
                WarmupSteps = parse.GetValue(warmup),
                Threads = parse.GetValue(threads),
                MeasureCeiling = !parse.GetValue(noCeiling),
                ProfileSteps = parse.GetValue(profile),
            };
            bool asJson = parse.GetValue(json);
            Action<string>? log = asJson ? null : line => output.MarkupLineInterpolated($"[grey]{line}[/]");
            var result = BenchRunner.Run(setup, options, log);
            if (asJson) output.Profile.Out.Writer.WriteLine(result.ToJsonString());
            else result.Write(output);
            return UserErrors.Ok;
        });
        return command;
    }
}
