using System.Text;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Html;
using VqganClip.Notebooks.Images;

namespace VqganClip.Notebooks.Runs;

/// <summary>
/// Several runs side by side: one chart with each run's total loss over steps, and one grid of their current
/// pictures labelled by run name (e.g. the same prompt with different generators, seeds or optimizers).
/// </summary>
public sealed class RunComparison
{
    public RunComparison(IReadOnlyList<(string Name, NotebookImage? Image, LossSeries Total)> runs, string title = "Run comparison")
    {
        if (runs.Count == 0) throw new ArgumentException("A comparison needs at least one run.", nameof(runs));
        var duplicate = runs.GroupBy(r => r.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Two runs are named '{duplicate.Key}'; give each run its own name.", nameof(runs));
        Runs = runs;
        Title = title;
    }

    public IReadOnlyList<(string Name, NotebookImage? Image, LossSeries Total)> Runs { get; }
    public string Title { get; }

    public LossChart Chart() => new(Runs.Select(r => r.Total with { Name = r.Name }), $"{Title}: total loss");

    public ImageGridView Grid()
    {
        var images = Runs.Where(r => r.Image is not null).Select(r => r.Image!.WithLabel(r.Name)).ToList();
        return new ImageGridView(images, columns: Math.Clamp(images.Count, 1, 6));
    }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder($"<div class=\"vqc-title\">{HtmlText.Encode(Title)}</div><div class=\"vqc-row\"><div>");
        sb.Append(Grid().ToHtmlFragment());
        sb.Append("</div><div style=\"flex:1 1 420px;min-width:300px\">").Append(Chart().ToHtmlFragment(height: 320)).Append("</div></div>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder($"{Title}: {Runs.Count} runs");
        sb.AppendLine();
        foreach (var (name, _, total) in Runs)
            sb.AppendLine($"  {name}: {total.Steps.Count} recorded steps, last total {(total.Last is { } v ? HtmlText.Number(v) : "-")}");
        return sb.ToString().TrimEnd();
    }
}
