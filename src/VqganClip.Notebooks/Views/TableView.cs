using System.Globalization;
using System.Text;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Views;

/// <summary>
/// A small table of results a notebook computed (a ranking, timings): a header and rows of cells. Numbers are
/// written as every view writes them (<see cref="HtmlText.Number"/>; integers as they are) and a column whose cells
/// are all numbers is right-aligned. <c>new TableView(["rank", "loss"], rows, title: "Ranking")</c>.
/// </summary>
public sealed class TableView
{
    public TableView(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object?>> rows, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        if (header.Count == 0) throw new ArgumentException("A table needs at least one column.", nameof(header));
        Header = header;
        var cells = rows.ToList();
        for (int r = 0; r < cells.Count; r++)
            if (cells[r].Count != header.Count)
                throw new ArgumentException($"Row {r} has {cells[r].Count} cells for {header.Count} columns.", nameof(rows));
        Rows = cells.Select(row => (IReadOnlyList<string>)row.Select(Cell).ToList()).ToList();
        NumericColumns = Enumerable.Range(0, header.Count)
            .Where(c => cells.Count > 0 && cells.All(row => row[c] is null || IsNumber(row[c]!)))
            .ToHashSet();
        Title = title;
    }

    public IReadOnlyList<string> Header { get; }

    /// <summary>The cells as written.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows { get; }

    /// <summary>Columns whose cells are all numbers (right-aligned).</summary>
    public IReadOnlySet<int> NumericColumns { get; }

    public string? Title { get; }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder();
        if (Title is not null) sb.Append($"<div class=\"vqc-title\">{HtmlText.Encode(Title)}</div>");
        return sb.Append(HtmlTable.Render(Header, Rows, NumericColumns.ToHashSet())).ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString() =>
        (Title is null ? "" : Title + Environment.NewLine) + HtmlTable.PlainText(Header, Rows);

    private static bool IsNumber(object value) =>
        value is sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal;

    private static string Cell(object? value) => value switch
    {
        null => "",
        double d => HtmlText.Number(d),
        float f => HtmlText.Number(f),
        decimal m => HtmlText.Number((double)m),
        IFormattable number when IsNumber(value) => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
