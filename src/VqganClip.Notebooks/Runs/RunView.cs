using System.Globalization;
using System.Text;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Html;
using VqganClip.Notebooks.Images;
using VqganClip.Notebooks.Views;

namespace VqganClip.Notebooks.Runs;

/// <summary>
/// A guided run as a notebook shows it: the current picture with the loss chart beside it, the step, the speed,
/// the latest loss of each prompt and regulariser, and the run's settings. Built from a GuidedRun (and the
/// report of its latest step) by <see cref="GuidedRunViews"/>; the parts here are plain data so the view is
/// the same wherever the numbers come from.
/// </summary>
public sealed class RunView
{
    public RunView(string title, NotebookImage? image, int step, int? targetStep, IReadOnlyList<(string Name, double Value)> latestLosses,
                   double? total, double? stepsPerSecond, IReadOnlyList<(string Key, string Value)> settings, LossChart chart)
    {
        Title = title;
        Image = image;
        Step = step;
        TargetStep = targetStep;
        LatestLosses = latestLosses;
        Total = total;
        StepsPerSecond = stepsPerSecond;
        Settings = settings;
        Chart = chart;
    }

    public string Title { get; }
    public NotebookImage? Image { get; }

    /// <summary>Steps completed.</summary>
    public int Step { get; }

    /// <summary>Where the current Step call is headed (null when not stepping).</summary>
    public int? TargetStep { get; }
    public IReadOnlyList<(string Name, double Value)> LatestLosses { get; }
    public double? Total { get; }
    public double? StepsPerSecond { get; }
    public IReadOnlyList<(string Key, string Value)> Settings { get; }
    public LossChart Chart { get; }


    public string Headline()
    {
        var sb = new StringBuilder($"step {Step}");
        if (TargetStep is { } target) sb.Append($" / {target}");
        if (Total is { } t) sb.Append($" · loss {HtmlText.Number(t)}");
        if (StepsPerSecond is > 0) sb.Append(string.Create(CultureInfo.InvariantCulture, $" · {StepsPerSecond:0.00} it/s"));
        return sb.ToString();
    }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder();
        sb.Append($"<div class=\"vqc-title\">{HtmlText.Encode(Title)} · {HtmlText.Encode(Headline())}</div>");
        sb.Append("<div class=\"vqc-row\">");
        if (Image is not null) sb.Append("<div>").Append(Image.ToHtmlFragment(Math.Min(Image.DisplayWidth(), 384))).Append("</div>");
        // Before the first step there is nothing to chart: an empty chart would only show axes.
        if (Chart.Series.Any(s => s.Steps.Count > 0))
            sb.Append("<div style=\"flex:1 1 420px;min-width:300px\">").Append(Chart.ToHtmlFragment(height: 320)).Append("</div>");
        else
            sb.Append("<div class=\"vqc-caption\">No steps yet: the loss chart appears after the first step.</div>");
        sb.Append("</div><div class=\"vqc-row\">");
        if (LatestLosses.Count > 0)
        {
            var rows = LatestLosses.Select(l => (IReadOnlyList<string>)[l.Name, HtmlText.Number(l.Value)]).ToList();
            if (Total is { } total) rows.Add(["total", HtmlText.Number(total)]);
            sb.Append("<div><div class=\"vqc-title\">Latest losses</div>")
              .Append(HtmlTable.Render(["term", "loss"], rows, new HashSet<int> { 1 })).Append("</div>");
        }
        if (Settings.Count > 0)
            sb.Append("<details><summary>Settings</summary>").Append(HtmlTable.KeyValues(Settings)).Append("</details>");
        sb.Append("</div>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder($"{Title}: {Headline()}");
        sb.AppendLine();
        foreach (var (name, value) in LatestLosses) sb.AppendLine($"  {name}: {HtmlText.Number(value)}");
        if (Image is not null) sb.AppendLine($"  current image {Image.Caption()}");
        return sb.ToString().TrimEnd();
    }
}
