using System.CommandLine;
using Spectre.Console;
using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Models.Runtime;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train judge</c>: trains the judge's object-kind classifier (seeded, CPU, a few
/// minutes), prints its held-out accuracy per kind, then measures the whole judge on held-out
/// captioned scenes, and saves data/judge-classifier.safetensors.
/// </summary>
public static class TrainJudgeCommand
{
    public static Command Create()
    {
        var defaults = new ObjectClassifierTrainingOptions();
        var seed = new Option<int>("--seed") { Description = "Seed of scenes, weights and batches", DefaultValueFactory = _ => defaults.Seed };
        var scenes = new Option<int>("--scenes") { Description = "Training scenes to render", DefaultValueFactory = _ => defaults.TrainScenes };
        var heldOut = new Option<int>("--held-out") { Description = "Held-out scenes (another seed) for the accuracy", DefaultValueFactory = _ => defaults.HeldOutScenes };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training crops", DefaultValueFactory = _ => defaults.Epochs };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads", DefaultValueFactory = _ => defaults.Threads };
        var judgeScenes = new Option<int>("--judge-scenes") { Description = "Held-out captioned scenes to run the whole judge on afterwards (0 = skip)", DefaultValueFactory = _ => 500 };
        var output = new Option<string?>("--output", "-o") { Description = $"Where to save (default: {ObjectClassifier.DefaultRelativePath} under the repository root, else the current folder)" };

        var command = new Command("judge", "Train the judge's object-kind classifier and save it as safetensors")
        {
            seed, scenes, heldOut, epochs, threads, judgeScenes, output,
        };
        command.SetAction(parse =>
        {
            var options = new ObjectClassifierTrainingOptions
            {
                Seed = parse.GetValue(seed),
                TrainScenes = parse.GetValue(scenes),
                HeldOutScenes = parse.GetValue(heldOut),
                Epochs = parse.GetValue(epochs),
                Threads = parse.GetValue(threads),
            };
            if (options.TrainScenes < 1 || options.HeldOutScenes < 1 || options.Epochs < 1 || parse.GetValue(judgeScenes) < 0)
            {
                AnsiConsole.MarkupLine("[red]error:[/] --scenes, --held-out and --epochs must be positive, --judge-scenes not negative");
                return 1;
            }
            var path = parse.GetValue(output) ?? DefaultOutput();
            Run(options, parse.GetValue(judgeScenes), path);
            return 0;
        });
        return command;
    }

    private static void Run(ObjectClassifierTrainingOptions options, int judgeScenes, string path)
    {
        var (classifier, report) = ObjectClassifierTrainer.Train(options, line => AnsiConsole.WriteLine(line));
        using (classifier)
        {
            var table = new Table().AddColumn("kind").AddColumn(new TableColumn("held-out accuracy").RightAligned());
            foreach (var (kind, accuracy) in report.HeldOutAccuracyByKind)
                table.AddRow(kind.Word(), $"{accuracy:P1}");
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"Object classifier: held-out accuracy {report.HeldOutAccuracy:P2} on {report.HeldOutCrops} crops " +
                                  $"({report.TrainCrops} training crops, {report.Epochs} epochs, {report.Elapsed.TotalSeconds:0}s)");

            if (judgeScenes > 0)
            {
                // The whole judge (colour, position, size, relation, background and kind checks) on
                // held-out scenes with their own captions: how often it accepts a correct image.
                var judge = new SceneJudge(classifier);
                TorchRuntime.SetThreads(1); // batches of 1-2 crops: thread hand-off would dominate (see Evaluator)
                var sampler = new SceneSampler(options.Seed + 2 * ObjectClassifierTrainer.HeldOutSeedOffset);
                int accepted = 0;
                for (int i = 0; i < judgeScenes; i++)
                {
                    var (spec, caption) = sampler.NextCaptioned();
                    var verdict = judge.Judge(SceneRenderer.RenderPlanar(spec), CaptionParser.Parse(caption));
                    if (verdict.Satisfied) accepted++;
                    else AnsiConsole.WriteLine($"  rejected: {verdict.Spec.Text}: {verdict.Summary}");
                }
                AnsiConsole.WriteLine($"Judge on {judgeScenes} held-out captioned scenes: accepts {accepted / (double)judgeScenes:P1}");
            }

            classifier.Save(path);
            AnsiConsole.WriteLine($"Saved {path} ({new FileInfo(path).Length / 1024.0:0} KiB)");
        }
    }

    private static string DefaultOutput()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Toolkit.sln")))
                return Path.Combine(dir.FullName, ObjectClassifier.DefaultRelativePath);
        return Path.GetFullPath(ObjectClassifier.DefaultRelativePath);
    }
}
