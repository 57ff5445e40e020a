using System.Text;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using VqganClip.Notebooks.Html;
using C = Plotly.NET.CSharp;

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

    public GenericChart ToChart(int width = 560, int height = 340)
    {
        var lines = Series.Select(s =>
        {
            bool total = s.Name == TotalName;
            return C.Chart.Line<int, double, string>(
                x: s.Steps, y: s.Values, Name: s.Name,
                LineWidth: total ? 3.0 : 1.5,
                LineDash: total ? StyleParam.DrawingStyle.Dash : StyleParam.DrawingStyle.Solid);
        }).ToList();
        var chart = lines.Count == 0 ? C.Chart.Line<int, double, string>(x: Array.Empty<int>(), y: Array.Empty<double>(), Name: "(no steps yet)") : C.Chart.Combine(lines);
        chart = chart.WithTitle(Title).WithAxisTitles("step", "loss").WithUpdateMenu(PlotlyParts.LogScaleToggle()).Sized(width, height);
        if (LogScale)
            chart = C.GenericChartExtensions.WithYAxisStyle<double, double, string>(chart, AxisType: StyleParam.AxisType.Log);
        return chart;
    }

    public string ToHtmlFragment(object owner, int width = 560, int height = 340) => ChartHtml.Render(ToChart(width, height), owner, height);

    public string ToHtml() => Styles.Open() + ToHtmlFragment(this) + Styles.Close;

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
