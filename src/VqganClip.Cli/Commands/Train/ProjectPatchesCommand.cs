using System.CommandLine;
using Spectre.Console;
using VqganClip.Guidance.Training;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;

namespace VqganClip.Cli.Commands.Train;

/// <summary>
/// <c>vqgan-clip train project-patches</c>: restricts a clipart CLIP's patch embedding to the patch directions the
/// scenes occupy (<see cref="PatchSubspace"/>) and exports the result (same layout and key names).
/// </summary>
public static class ProjectPatchesCommand
{
    public static Command Create()
    {
        var clip = new Option<string>("--clip") { Description = "The CLIP to project (default: the shipped one)", DefaultValueFactory = _ => TrainClipCommand.DefaultOutput };
        var output = new Option<string>("--out") { Description = "Where to write the projected CLIP (.safetensors)", Required = true };
        var keep = new Option<double>("--keep") { Description = "Fraction of the scenes' patch variance to keep", DefaultValueFactory = _ => 0.999 };
        var scenes = new Option<int>("--scenes") { Description = "Training-like scenes whose patches give the covariance", DefaultValueFactory = _ => 2048 };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 1 };
        var command = new Command("project-patches", "Restrict a ViT CLIP's patch embedding to the directions clipart scenes occupy")
        {
            clip, output, keep, scenes, threads,
        };
        command.SetAction(parse => UserErrors.Guard(AnsiConsole.Console, () =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            var input = TrainingConsole.RepoPath(parse.GetValue(clip)!);
            if (!File.Exists(input)) throw new FileNotFoundException($"CLIP checkpoint '{input}' does not exist.", input);
            using var model = ClipModel.Load(input);
            var result = PatchSubspace.Project(model, parse.GetValue(keep), parse.GetValue(scenes), threads: Math.Max(1, parse.GetValue(threads)));
            var path = Path.GetFullPath(parse.GetValue(output)!);
            ClipTrainer.Export(model, path, step: 0);
            AnsiConsole.WriteLine($"Kept {result.Kept} of {result.Directions} patch directions ({result.VarianceKept:P3} of the variance of {result.Patches} patches); wrote {path}");
            return 0;
        }));
        return command;
    }
}
