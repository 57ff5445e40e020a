using Microsoft.DotNet.Interactive.Formatting;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Images;
using VqganClip.Notebooks.Views;

namespace VqganClip.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public class LayoutViewTests
{
    public LayoutViewTests() => NotebookFormatters.Register();

    private static TableView Ranking() => new(["rank", "sample", "loss"],
        [[1, "#7", 1.03245], [2, "#2", 1.0728]], title: "CLIP's ranking");

    [Fact]
    public void Table_writes_numbers_as_views_do_and_right_aligns_numeric_columns()
    {
        var table = Ranking();
        Assert.Equal(["1", "#7", "1.0325"], table.Rows[0]);
        Assert.Equal(new HashSet<int> { 0, 2 }, table.NumericColumns.ToHashSet());

        var html = table.ToDisplayString("text/html");
        Assert.Contains("CLIP&#39;s ranking", html);
        Assert.Contains("<th class=\"num\">rank</th><th>sample</th><th class=\"num\">loss</th>", html);
        Assert.Contains("<td class=\"num\">1.0325</td>", html);
        Assert.Contains("#7", table.ToDisplayString("text/plain"));
    }

    [Fact]
    public void Table_rows_must_fill_the_header()
    {
        var e = Assert.Throws<ArgumentException>(() => new TableView(["a", "b"], [[1, 2], [3]]));
        Assert.Contains("Row 1 has 1 cells for 2 columns", e.Message);
    }

    [Fact]
    public void Side_by_side_shows_each_part_with_its_own_formatter_in_one_row()
    {
        var grid = new ImageGridView([NotebookImage.FromPixels(new float[3 * 8 * 8], 3, 8, 8, "a"), NotebookImage.FromPixels(new float[3 * 8 * 8], 3, 8, 8, "b")]);
        var chart = new LossChart([new LossSeries(LossChart.TotalName, [1, 2, 3], [0.9, 0.8, 0.7])]);
        var html = SideBySide.Of(grid, Ranking(), chart).ToDisplayString("text/html");

        Assert.Equal(2, HtmlProbe.Images(html).Count);
        Assert.Single(HtmlProbe.Figures(html));
        Assert.Contains("<div class=\"vqc-row\">", html);
        Assert.True(html.IndexOf("<img", StringComparison.Ordinal) < html.IndexOf("<table", StringComparison.Ordinal), "parts appear left to right in order");
        var text = SideBySide.Of(grid, Ranking()).ToDisplayString("text/plain");
        Assert.Contains("2 images", text);
        Assert.Contains("CLIP's ranking", text);
    }

    [Fact]
    public void Side_by_side_needs_parts()
    {
        Assert.Throws<ArgumentException>(() => SideBySide.Of());
    }
}
