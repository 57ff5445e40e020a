using System.Globalization;
using System.Text;
using VqganClip.Notebooks.Html;
using VqganClip.Notebooks.Images;
using VqganClip.Notebooks.Views;

namespace VqganClip.Notebooks.Runs;

/// <summary>
/// One step's report: where the run is (step, done/asked in this call), speed and time left, the total and each
/// term's loss, the learning rate, and the picture the losses were measured on.
/// </summary>
public sealed class StepReportView
{
    public StepReportView(int step, int completed, int target, double? total, IReadOnlyList<(string Name, double Value)> terms,
                          double? learningRate, double stepsPerSecond, double etaSeconds, NotebookImage? image, bool cancelled)
    {
        Step = step;
        Completed = completed;
        Target = target;
        Total = total;
        Terms = terms;
        LearningRate = learningRate;
        StepsPerSecond = stepsPerSecond;
        EtaSeconds = etaSeconds;
        Image = image;
        Cancelled = cancelled;
    }

    /// <summary>Steps the picture had when the losses were measured.</summary>
    public int Step { get; }
    public int Completed { get; }
    public int Target { get; }
    public double? Total { get; }
    public IReadOnlyList<(string Name, double Value)> Terms { get; }
    public double? LearningRate { get; }
    public double StepsPerSecond { get; }
    public double EtaSeconds { get; }
    public NotebookImage? Image { get; }
    public bool Cancelled { get; }

    public string Headline()
    {
        var sb = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"step {Step} · {Completed}/{Target} in this call"));
        if (Total is { } t) sb.Append($" · loss {HtmlText.Number(t)}");
        if (StepsPerSecond > 0) sb.Append(string.Create(CultureInfo.InvariantCulture, $" · {StepsPerSecond:0.00} it/s"));
        if (double.IsFinite(EtaSeconds) && Completed < Target) sb.Append(string.Create(CultureInfo.InvariantCulture, $" · {EtaSeconds:0}s left"));
        if (Cancelled) sb.Append(" · cancelled");
        return sb.ToString();
    }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder($"<div class=\"vqc-title\">{HtmlText.Encode(Headline())}</div><div class=\"vqc-row\">");
        if (Image is not null) sb.Append("<div>").Append(Image.ToHtmlFragment(Math.Min(Image.DisplayWidth(), 256))).Append("</div>");
        var rows = Terms.Select(t => (IReadOnlyList<string>)[t.Name, HtmlText.Number(t.Value)]).ToList();
        if (Total is { } total) rows.Add(["total", HtmlText.Number(total)]);
        if (LearningRate is { } lr) rows.Add(["learning rate", HtmlText.Number(lr)]);
        sb.Append("<div>").Append(HtmlTable.Render(["term", "value"], rows, new HashSet<int> { 1 })).Append("</div></div>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder(Headline()).AppendLine();
        foreach (var (name, value) in Terms) sb.AppendLine($"  {name}: {HtmlText.Number(value)}");
        return sb.ToString().TrimEnd();
    }
}
