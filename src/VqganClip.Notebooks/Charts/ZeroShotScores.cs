using System.Text;
using VqganClip.Notebooks.Html;

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

    /// <summary>The probabilities of one image of a CLIP zero-shot result (<c>ZeroShot.Score</c>).</summary>
    public static ZeroShotScores FromResult(VqganClip.Models.Clip.ZeroShotResult result, int image = 0)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (image < 0 || image >= result.Probabilities.Length)
            throw new ArgumentOutOfRangeException(nameof(image), image, $"The result scores {result.Probabilities.Length} image(s).");
        var title = result.Probabilities.Length == 1 ? "Zero-shot probabilities" : $"Zero-shot probabilities, image {image}";
        return new ZeroShotScores(result.Texts, result.Probabilities[image], title);
    }

    /// <summary>Labels with their scores, best first.</summary>
    public IReadOnlyList<(string Label, double Score)> Ranked { get; }
    public string Title { get; }
    public string? ImageLabel { get; }

    public (string Label, double Score) Best => Ranked[0];

    public PlotlyFigure ToFigure()
    {
        // Plotly stacks horizontal bar categories bottom-up: feed them worst first so the best is on top.
        var ascending = Ranked.Reverse().ToList();
        var figure = new PlotlyFigure(Title, Height(ascending.Count))
            .Add(PlotlyFigure.HorizontalBars(ascending.Select(s => s.Label), ascending.Select(s => s.Score), ascending.Select(s => HtmlText.Number(s.Score))))
            .AxisTitles("score", null);
        // Whole captions as bar labels: a left margin wide enough for the longest, and plotly's automargin on top.
        figure.Axis("yaxis")["automargin"] = true;
        ((System.Text.Json.Nodes.JsonObject)figure.Layout["margin"]!)["l"] = LabelMargin(ascending.Max(s => s.Label.Length));
        return figure;
    }

    public string ToHtmlFragment() => ChartHtml.Render(ToFigure());

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Title + (ImageLabel is null ? "" : $" for {ImageLabel}") + ":");
        int width = Ranked.Max(r => r.Label.Length);
        foreach (var (label, score) in Ranked)
            sb.AppendLine($"  {label.PadRight(width)}  {HtmlText.Number(score)}");
        return sb.ToString().TrimEnd();
    }

    /// <summary>Left margin in pixels for labels of this many characters at the chart font (about 8 px a character).</summary>
    public static int LabelMargin(int characters) => Math.Clamp(20 + 8 * characters, 60, 480);

    /// <summary>Room for the title and axis plus a bar row per label.</summary>
    private static int Height(int labels) => Math.Clamp(150 + 30 * labels, 220, 900);

    private static IEnumerable<(string, double)> Zip(IReadOnlyList<string> labels, IReadOnlyList<float> scores)
    {
        if (labels.Count != scores.Count)
            throw new ArgumentException($"{labels.Count} labels but {scores.Count} scores.");
        return labels.Select((l, i) => (l, (double)scores[i]));
    }
}
