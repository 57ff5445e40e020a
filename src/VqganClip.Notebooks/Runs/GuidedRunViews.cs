using VqganClip.Guidance;
using VqganClip.Guidance.Running;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Images;
using VqganClip.Notebooks.Views;

namespace VqganClip.Notebooks.Runs;

/// <summary>
/// The notebook views of a <see cref="GuidedRun"/>: <c>run.View()</c>, <c>run.LossChart()</c>, <c>run.SnapshotGrid()</c>,
/// <c>run.CutoutGrid()</c>, <c>GuidedRunViews.Compare(...)</c>, and the live-display helper <c>run.StepLive(...)</c>.
/// </summary>
public static class GuidedRunViews
{
    /// <summary>A picture kept by the run as a notebook image (labelled with its step unless told otherwise).</summary>
    public static NotebookImage ToNotebookImage(this RenderedImage image, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        return NotebookImage.FromPixels(image.Pixels.ToArray(), 3, image.Height, image.Width, label ?? $"step {image.Step}");
    }

    /// <summary>
    /// The step number a loss record is charted at: 1 for the first step. A record's <see cref="LossRecord.Step"/> is
    /// the run's step count when the step began (0 for the first), so after N steps the view says "step N" and the
    /// chart's last point is step N too.
    /// </summary>
    public static int StepNumber(LossRecord record) => record.Step + 1;

    /// <summary>
    /// Loss over steps from a run's history: one line per prompt (by label), one per regulariser, and the total,
    /// at step numbers 1..N (<see cref="StepNumber"/>). A prompt absent from some steps (story phases) has gaps there.
    /// </summary>
    public static LossChart LossChart(IEnumerable<LossRecord> history, string title = "Loss", bool logScale = false)
    {
        var records = history.ToList();
        var series = new List<LossSeries>();
        foreach (var prompt in records.SelectMany(r => r.Prompts).Select(p => (p.Index, p.Label)).Distinct().OrderBy(p => p.Index))
        {
            var points = records.SelectMany(r => r.Prompts.Where(p => p.Index == prompt.Index).Select(p => (StepNumber(r), p.Value))).ToList();
            series.Add(new LossSeries(prompt.Label, points));
        }
        foreach (var name in records.SelectMany(r => r.Regularizers.Keys).Distinct())
            series.Add(new LossSeries(name, records.Where(r => r.Regularizers.ContainsKey(name)).Select(r => (StepNumber(r), r.Regularizers[name]))));
        series.Add(new LossSeries(Charts.LossChart.TotalName, records.Select(r => (StepNumber(r), r.Total))));
        return new LossChart(series, title, logScale);
    }

    public static LossChart LossChart(this GuidedRun run, bool logScale = false) => LossChart(run.History, "Loss", logScale);

    /// <summary>The run as a notebook shows it; <paramref name="report"/> (the latest step's) supplies the picture and speed without re-rendering.</summary>
    public static RunView View(this GuidedRun run, StepReport? report = null, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var image = (report?.Image ?? run.CurrentImage()).ToNotebookImage($"step {report?.Image?.Step ?? run.StepCount}");
        var latest = report?.Loss ?? run.History.LastOrDefault();
        var losses = latest is null
            ? []
            : latest.Prompts.Select(p => (p.Label, p.Value)).Concat(latest.Regularizers.Select(r => (r.Key, r.Value))).ToList();
        int? target = report is { Completed: var done, Target: var asked } && done < asked ? run.StepCount - done + asked : null;
        return new RunView(
            title ?? string.Join(" | ", run.Prompts.Select(p => p.Label).DefaultIfEmpty("Guided run")),
            image, run.StepCount, target, losses, latest?.Total,
            report is { StepsPerSecond: > 0 } ? report.StepsPerSecond : null,
            Settings(run), LossChart(run.History));
    }

    public static StepReportView View(this StepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var loss = report.Loss;
        var terms = loss is null ? [] : loss.Prompts.Select(p => (p.Label, p.Value)).Concat(loss.Regularizers.Select(r => (r.Key, r.Value))).ToList();
        return new StepReportView(report.TotalSteps, report.Completed, report.Target, loss?.Total, terms,
                                  loss?.LearningRate, report.StepsPerSecond, report.EtaSeconds, report.Image?.ToNotebookImage(), report.Cancelled);
    }

    /// <summary>The run's snapshots (GuidanceOptions.SnapshotEvery) over time; <paramref name="every"/> thins them to every k-th step.</summary>
    public static ImageGridView SnapshotGrid(this GuidedRun run, int every = 1, int? columns = null)
    {
        if (run.Snapshots.Count == 0)
            throw new InvalidOperationException("The run kept no snapshots: set GuidanceOptions.SnapshotEvery (e.g. 10) when creating it.");
        return ImageGridView.FromSnapshots(run.Snapshots.Select(s => (s.Step, s.ToNotebookImage())), every, columns, $"Snapshots ({run.Snapshots.Count} kept)");
    }

    /// <summary>What CLIP sees: a fresh set of cutouts of the current picture (the run's random state is left as it was).</summary>
    public static ImageGridView CutoutGrid(this GuidedRun run, int? columns = null)
    {
        using var cutouts = run.CurrentCutouts();
        return ImageGridView.FromBatch(cutouts, columns: columns ?? 8, title: $"What CLIP sees at step {run.StepCount}: {cutouts.shape[0]} cutouts of {cutouts.shape[2]}×{cutouts.shape[3]}");
    }

    /// <summary>Several runs in one chart (total loss) and one grid (current pictures).</summary>
    public static RunComparison Compare(params (string Name, GuidedRun Run)[] runs) =>
        new(runs.Select(r => (r.Name, (NotebookImage?)r.Run.CurrentImage().ToNotebookImage(r.Name),
                              new LossSeries(r.Name, r.Run.History.Select(h => (StepNumber(h), h.Total))))).ToList());

    /// <summary>
    /// Steps the run and hands a fresh <see cref="RunView"/> to <paramref name="update"/> every <paramref name="every"/>
    /// steps. In a notebook: <c>var view = LiveView.Show(run.View()); run.StepLive(200, every: 10, view.Update);</c>
    /// </summary>
    public static StepReport StepLive(this GuidedRun run, int steps, int every, Action<object> update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        return run.Step(steps, ct: cancellationToken, every: every, onUpdate: report => update(run.View(report)));
    }

    private static IReadOnlyList<(string Key, string Value)> Settings(GuidedRun run)
    {
        var settings = new List<(string, string)> { ("Generator", $"{run.Generator.Name} {run.Generator.Width}×{run.Generator.Height}") };
        settings.AddRange(run.Generator.Settings.Select(kv => ($"Generator.{kv.Key}", kv.Value)));
        settings.AddRange(ConfigProperties.Of(run.Options, maxDepth: 1).Where(kv => kv.Value != "null"));
        return settings;
    }
}
