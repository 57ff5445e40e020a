using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;
using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Html;
using VqganClip.Notebooks.Images;
using VqganClip.Notebooks.Runs;
using VqganClip.Notebooks.Views;

namespace VqganClip.Notebooks;

/// <summary>
/// Registers the toolkit's "text/html" and "text/plain" formatters with Microsoft.DotNet.Interactive.Formatting.
/// A Polyglot notebook that references the VqganClip.Notebooks package gets them automatically (the package's
/// interactive-extensions/dotnet/extension.dib calls <see cref="Register"/>); other hosts (the notebook runner,
/// tests, a custom kernel) call <see cref="Register"/> themselves. Calling it again does nothing.
/// </summary>
public static class NotebookFormatters
{
    private static readonly object Gate = new();
    private static readonly List<Action> Registrations = [];

    public const string Html = "text/html";
    public const string PlainText = "text/plain";

    static NotebookFormatters()
    {
        Add<NotebookImage>(i => i.ToHtml(), i => i.ToString());
        Add<ImageGridView>(g => g.ToHtml(), g => g.ToString());
        Add<LossChart>(c => c.ToHtml(), c => c.ToString());
        Add<ZeroShotScores>(s => s.ToHtml(), s => s.ToString());
        Add<PlotlyFigure>(ClassVectorCharts.ToHtml, f => $"plotly figure ({f.Data.Count} traces)");
        Add<VqganClip.Models.Clip.ZeroShotResult>(
            r => string.Concat(Enumerable.Range(0, r.Probabilities.Length).Select(i => ZeroShotScores.FromResult(r, i).ToHtml())),
            r => string.Join("\n", Enumerable.Range(0, r.Probabilities.Length).Select(i => ZeroShotScores.FromResult(r, i).ToString())));
        Add<CodebookUsage>(u => u.ToHtml(), u => u.ToString());
        Add<RunView>(v => v.ToHtml(), v => v.ToString());
        Add<RunComparison>(c => c.ToHtml(), c => c.ToString());
        Add<StepReportView>(v => v.ToHtml(), v => v.ToString());
        Add<VqganClip.Guidance.GuidedRun>(r => r.View().ToHtml(), r => r.View().ToString());
        Add<VqganClip.Guidance.Running.StepReport>(r => r.View().ToHtml(), r => r.View().ToString());
        Add<VqganClip.Guidance.Running.RenderedImage>(i => i.ToNotebookImage().ToHtml(), i => i.ToNotebookImage().ToString());
        Add<IReadOnlyList<VqganClip.Guidance.Running.LossRecord>>(h => GuidedRunViews.LossChart(h).ToHtml(), h => GuidedRunViews.LossChart(h).ToString());
        Add<TableView>(t => t.ToHtml(), t => t.ToString());
        Add<SideBySide>(s => s.ToHtml(), s => s.ToString());
        Add<ModelSummary>(m => m.ToHtml(), m => m.ToString());
        Add<CheckpointTable>(t => t.ToHtml(), t => t.ToString());
        Add<StateDict>(d => CheckpointTable.FromStateDict(d).ToHtml(), d => CheckpointTable.FromStateDict(d).ToString());
        Add<CheckpointInfo>(i => CheckpointTable.FromInfo(i).ToHtml(), i => CheckpointTable.FromInfo(i).ToString());
        Add<torch.nn.Module>(m => ModelSummary.Of(m).ToHtml(), m => ModelSummary.Of(m).ToString());
    }

    /// <summary>Whether this process has registered the formatters (and they have not been reset since).</summary>
    public static bool IsRegistered
    {
        get
        {
            lock (Gate)
                return Formatter.RegisteredFormatters(false).Any(f => f.Type == typeof(NotebookImage));
        }
    }

    /// <summary>Registers every formatter once; safe to call from many places (and again after <c>Formatter.ResetToDefault()</c>).</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (Formatter.RegisteredFormatters(false).Any(f => f.Type == typeof(NotebookImage))) return;
            foreach (var register in Registrations) register();
            try { RegisterPlotlyNetCharts(); }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException)
            {
                // A host whose FSharp.Core is older than Plotly.NET's (the .NET Interactive kernel): Plotly.NET charts
                // cannot be built there anyway; the toolkit's own charts do not need it.
            }
        }
    }

    /// <summary>Plotly.NET charts users build themselves render offline too (where Plotly.NET can run).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void RegisterPlotlyNetCharts()
    {
        Formatter.Register<GenericChart>((c, w) => w.Write(Styles.Open() + ChartHtml.Render(c) + Styles.Close), Html);
        Formatter.Register<GenericChart>((c, w) => w.Write($"Plotly.NET chart ({GenericChart.getTraces(c).Length} traces)"), PlainText);
        Formatter.SetPreferredMimeTypesFor(typeof(GenericChart), Html, PlainText);
    }

    /// <summary>Adds a type to the registration list (used by the run views, which live in other files).</summary>
    internal static void Add<T>(Func<T, string> html, Func<T, string> plainText)
    {
        Registrations.Add(() =>
        {
            Formatter.Register<T>((value, writer) => writer.Write(html(value)), Html);
            Formatter.Register<T>((value, writer) => writer.Write(plainText(value)), PlainText);
            Formatter.SetPreferredMimeTypesFor(typeof(T), Html, PlainText);
        });
    }
}
