using System.Globalization;
using Spectre.Console;
using VqganClip.Training;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// Shared console side of <c>train vqgan</c> / <c>train clip</c>: runs a <see cref="TrainingSession"/> with a
/// Spectre progress bar (or, when output is redirected as under nohup, a plain line every few steps), stops
/// cleanly on Ctrl+C (a checkpoint is written), and prints the final metrics.
/// </summary>
internal static class TrainingConsole
{
    /// <summary>Repository-relative default paths resolve against the folder holding Toolkit.sln (else the current folder).</summary>
    public static string RepoPath(string relative)
    {
        if (Path.IsPathRooted(relative)) return relative;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Toolkit.sln")))
                return Path.Combine(dir.FullName, relative);
        return Path.GetFullPath(relative);
    }

    /// <summary>A run folder given to --resume: the folder with checkpoint/ in it, or the checkpoint folder itself.</summary>
    public static (string RunDirectory, string CheckpointDirectory) ResolveResume(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(Path.Combine(full, TrainingCheckpoint.StateFile)))
            return (Path.GetDirectoryName(full)!, full);
        var inner = Path.Combine(full, "checkpoint");
        if (File.Exists(Path.Combine(inner, TrainingCheckpoint.StateFile)))
            return (full, inner);
        throw new DirectoryNotFoundException($"'{path}' holds no training checkpoint (looked for {TrainingCheckpoint.StateFile} there and in its checkpoint/ folder).");
    }

    public static string Format(IReadOnlyDictionary<string, double> values, params string[] keys) =>
        string.Join("  ", keys.Where(values.ContainsKey).Select(k => $"{k} {values[k].ToString(values[k] is > 0 and < 1e-3 ? "0.0e0" : "0.####", CultureInfo.InvariantCulture)}"));

    public static int Run(ITrainer trainer, TrainingSessionOptions options, string[] stepKeys, string[] evalKeys, int printEvery)
    {
        var session = new TrainingSession(trainer, options);
        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        session.Evaluated += (step, metrics, best) =>
            AnsiConsole.MarkupLineInterpolated($"[grey]step {step}[/] eval: {Format(metrics, evalKeys)}{(best ? "  (best so far)" : "")}");
        session.Checkpointed += (step, dir) => { if (Console.IsOutputRedirected) Console.WriteLine($"step {step}: checkpoint {dir}"); };
        AnsiConsole.MarkupLineInterpolated($"Training {trainer.Kind}: step {trainer.Step} of {trainer.TotalSteps}; run folder {options.RunDirectory}; output {options.OutputPath}");

        IReadOnlyDictionary<string, double>? final;
        var started = DateTime.UtcNow;
        try
        {
            if (Console.IsOutputRedirected)
            {
                session.Stepped += (step, losses) =>
                {
                    if (step % printEvery == 0 || step == trainer.TotalSteps)
                        Console.WriteLine($"step {step}/{trainer.TotalSteps} {(DateTime.UtcNow - started).TotalSeconds:0}s  {Format(losses, stepKeys)}");
                };
                final = session.Run(cancellation.Token);
            }
            else
            {
                final = null;
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask(trainer.Kind, maxValue: trainer.TotalSteps);
                        task.Value = trainer.Step;
                        session.Stepped += (step, losses) =>
                        {
                            task.Value = step;
                            task.Description = Markup.Escape($"{trainer.Kind} {step}: {Format(losses, stepKeys)}");
                        };
                        final = session.Run(cancellation.Token);
                    });
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        if (final is null)
        {
            AnsiConsole.MarkupLineInterpolated($"Stopped at step {trainer.Step}; resume with --resume {options.RunDirectory}");
            return 130;
        }
        AnsiConsole.MarkupLineInterpolated($"Final ({options.FinalEvalScenes} held-out scenes): {Format(final, evalKeys)}");
        AnsiConsole.MarkupLineInterpolated($"Saved {options.OutputPath} ({new FileInfo(options.OutputPath).Length / 1048576.0:0.0} MiB); log {Path.Combine(options.RunDirectory, "log.jsonl")}");
        return 0;
    }
}
