using System.Text;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Charts;

/// <summary>
/// Loss over steps: one line per series (each prompt, regulariser terms, the total drawn thicker), with a
/// linear/log toggle on the y axis. Displays as an offline Plotly chart.
/// </summary>
public sealed class LossChart
{
    /// <summary>The name the total line gets; it is drawn thicker and dashed.</summary>
    public const string TotalName = "total";

    public LossChart(IEnumerable<LossSeries> series, string title = "Loss", bool logScale = false)
    {
        Series = series.ToList();
        foreach (var s in Series)
            if (s.Steps.Count != s.Values.Count)
                throw new ArgumentException($"Loss series '{s.Name}' has {s.Steps.Count} steps but {s.Values.Count} values.");
        Title = title;
        LogScale = logScale;
    }

    public IReadOnlyList<LossSeries> Series { get; }
    public string Title { get; }

    /// <summary>Start on a log y axis (the toggle switches either way).</summary>
    public bool LogScale { get; }

    public PlotlyFigure ToFigure(int height = 340)
    {
        var figure = new PlotlyFigure(Title, height).AxisTitles("step", "loss").LogScaleToggle(LogScale);
        foreach (var s in Series)
        {
            bool total = s.Name == TotalName;
            figure.Add(PlotlyFigure.Line(s.Name, s.Steps, s.Values, total ? 3.0 : 1.5, total ? "dash" : "solid"));
        }
        return figure;
    }

    public string ToHtmlFragment(int height = 340) => ChartHtml.Render(ToFigure(height));

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder();
        int steps = Series.Count == 0 ? 0 : Series.Max(s => s.Steps.Count);
        sb.AppendLine($"{Title}: {Series.Count} series over {steps} recorded steps");
        foreach (var s in Series)
            sb.AppendLine($"  {s.Name}: last {(s.Last is { } v ? HtmlText.Number(v) : "-")}" +
                          (s.Values.Count > 0 ? $", min {HtmlText.Number(s.Values.Min())}" : ""));
        return sb.ToString().TrimEnd();
    }
}
