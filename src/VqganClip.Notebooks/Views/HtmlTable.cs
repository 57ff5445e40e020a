using System.Text;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Views;

/// <summary>A plain HTML table (header + rows of cell texts, encoded here); numeric columns right-aligned.</summary>
internal static class HtmlTable
{
    public static string Render(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, ISet<int>? numericColumns = null)
    {
        var sb = new StringBuilder("<table class=\"vqc-table\"><thead><tr>");
        for (int i = 0; i < header.Count; i++)
            sb.Append(numericColumns?.Contains(i) == true ? "<th class=\"num\">" : "<th>").Append(HtmlText.Encode(header[i])).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            for (int i = 0; i < row.Count; i++)
                sb.Append(numericColumns?.Contains(i) == true ? "<td class=\"num\">" : "<td>").Append(HtmlText.Encode(row[i])).Append("</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    /// <summary>Key/value pairs as a two-column table.</summary>
    public static string KeyValues(IEnumerable<(string Key, string Value)> pairs) =>
        Render(["", ""], pairs.Select(p => (IReadOnlyList<string>)[p.Key, p.Value])).Replace("<thead><tr><th></th><th></th></tr></thead>", "");

    /// <summary>Rows as aligned plain-text columns.</summary>
    public static string PlainText(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string indent = "  ")
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var widths = Enumerable.Range(0, header.Count).Select(c => all.Max(r => c < r.Count ? r[c].Length : 0)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in all)
            sb.Append(indent).AppendLine(string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        return sb.ToString().TrimEnd();
    }
}
