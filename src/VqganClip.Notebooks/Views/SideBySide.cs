using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Views;

/// <summary>
/// Several views in one output, left to right (wrapping when the page is narrow): a grid beside the table that ranks
/// it, a loss chart beside the snapshots it came from. <c>SideBySide.Of(grid, table)</c>. Each part is drawn by its
/// own "text/html" formatter (any value the notebook could show on its own), so a chart among them still shares the
/// page's one plotly.js.
/// </summary>
public sealed class SideBySide
{
    public SideBySide(IEnumerable<object> parts, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(parts);
        Parts = parts.ToList();
        if (Parts.Count == 0) throw new ArgumentException("Nothing to show side by side.", nameof(parts));
        if (Parts.Any(p => p is null)) throw new ArgumentException("A part to show side by side is null.", nameof(parts));
        Title = title;
    }

    /// <summary>The parts, left to right.</summary>
    public static SideBySide Of(params object[] parts) => new(parts);

    public IReadOnlyList<object> Parts { get; }
    public string? Title { get; }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder();
        if (Title is not null) sb.Append($"<div class=\"vqc-title\">{HtmlText.Encode(Title)}</div>");
        sb.Append("<div class=\"vqc-row\">");
        foreach (var part in Parts)
        {
            // a chart takes the room that is left; pictures and tables keep their own width
            var style = part is Charts.LossChart ? " style=\"flex:1 1 420px;min-width:300px\"" : "";
            sb.Append($"<div{style}>").Append(part.ToDisplayString(NotebookFormatters.Html)).Append("</div>");
        }
        return sb.Append("</div>").ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString() =>
        string.Join(Environment.NewLine, (Title is null ? [] : new[] { Title }).Concat(Parts.Select(p => p.ToDisplayString(NotebookFormatters.PlainText))));
}
