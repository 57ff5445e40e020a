using System.Text;
using Plotly.NET;
using VqganClip.Notebooks.Html;
using C = Plotly.NET.CSharp;

namespace VqganClip.Notebooks.Charts;

/// <summary>
/// Zero-shot classification scores (e.g. CLIP's softmax over "a photo of a {label}" prompts) as horizontal bars,
/// best on top, plus a ranked table.
/// </summary>
public sealed class ZeroShotScores
{
    public ZeroShotScores(IEnumerable<(string Label, double Score)> scores, string title = "Zero-shot scores", string? imageLabel = null)
    {
        Ranked = scores.OrderByDescending(s => s.Score).ToList();
        if (Ranked.Count == 0) throw new ArgumentException("Zero-shot scores need at least one label.", nameof(scores));
        Title = title;
        ImageLabel = imageLabel;
    }

    public ZeroShotScores(IReadOnlyList<string> labels, IReadOnlyList<float> scores, string title = "Zero-shot scores")
        : this(Zip(labels, scores), title) { }

    /// <summary>Labels with their scores, best first.</summary>
    public IReadOnlyList<(string Label, double Score)> Ranked { get; }
    public string Title { get; }
    public string? ImageLabel { get; }

    public (string Label, double Score) Best => Ranked[0];

    public GenericChart ToChart(int width = 520)
    {
        // Plotly stacks horizontal bar categories bottom-up: feed them worst first so the best is on top.
        var ascending = Ranked.Reverse().ToList();
        int height = Height(ascending.Count);
        return C.Chart.Bar<double, string, string>(
                values: ascending.Select(s => s.Score), Keys: ascending.Select(s => s.Label).ToList(), Name: "score",
                MultiText: ascending.Select(s => HtmlText.Number(s.Score)).ToList())
            .WithTitle(Title).WithAxisTitles("score", "").Sized(width, height);
    }

    public string ToHtmlFragment(object owner)
    {
        var chart = ToChart();
        var height = Height(Ranked.Count);
        return ChartHtml.Render(chart, owner, height);
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment(this) + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Title + (ImageLabel is null ? "" : $" for {ImageLabel}") + ":");
        int width = Ranked.Max(r => r.Label.Length);
        foreach (var (label, score) in Ranked)
            sb.AppendLine($"  {label.PadRight(width)}  {HtmlText.Number(score)}");
        return sb.ToString().TrimEnd();
    }

    /// <summary>Room for the title and axis plus a bar row per label.</summary>
    private static int Height(int labels) => Math.Clamp(150 + 30 * labels, 220, 900);

    private static IEnumerable<(string, double)> Zip(IReadOnlyList<string> labels, IReadOnlyList<float> scores)
    {
        if (labels.Count != scores.Count)
            throw new ArgumentException($"{labels.Count} labels but {scores.Count} scores.");
        return labels.Select((l, i) => (l, (double)scores[i]));
    }
}
