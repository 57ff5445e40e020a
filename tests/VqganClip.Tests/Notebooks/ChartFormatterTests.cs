using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Charts;

namespace VqganClip.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public class ChartFormatterTests
{
    public ChartFormatterTests() => NotebookFormatters.Register();

    private static LossChart TwoPromptsAndTotal(int steps) => new(
    [
        new LossSeries("a red cat", Enumerable.Range(0, steps).ToList(), Enumerable.Range(0, steps).Select(s => 1.0 / (s + 1)).ToList()),
        new LossSeries("a painting", Enumerable.Range(0, steps).ToList(), Enumerable.Range(0, steps).Select(s => 2.0 / (s + 1)).ToList()),
        new LossSeries(LossChart.TotalName, Enumerable.Range(0, steps).ToList(), Enumerable.Range(0, steps).Select(s => 3.0 / (s + 1)).ToList()),
    ]);

    [Fact]
    public void Loss_chart_has_one_line_per_prompt_and_the_total_with_all_steps()
    {
        var html = TwoPromptsAndTotal(7).ToDisplayString("text/html");
        var figure = Assert.Single(HtmlProbe.Figures(html));
        var traces = HtmlProbe.Traces(figure);

        Assert.Equal(["a red cat", "a painting", "total"], traces.Select(HtmlProbe.Name));
        Assert.All(traces, t =>
        {
            Assert.Equal(7, t.GetProperty("x").GetArrayLength());
            Assert.Equal(7, t.GetProperty("y").GetArrayLength());
        });
        Assert.Equal(0.5, traces[0].GetProperty("y")[1].GetDouble(), 12);
        Assert.Equal("dash", traces[2].GetProperty("line").GetProperty("dash").GetString());
    }

    [Fact]
    public void Loss_chart_has_a_linear_log_toggle_on_the_y_axis()
    {
        var figure = Assert.Single(HtmlProbe.Figures(TwoPromptsAndTotal(3).ToHtml()));
        var menu = Assert.Single(figure.GetProperty("layout").GetProperty("updatemenus").EnumerateArray());
        var buttons = menu.GetProperty("buttons").EnumerateArray().ToList();
        Assert.Equal(["linear", "log"], buttons.Select(b => b.GetProperty("label").GetString()));
        Assert.All(buttons, b => Assert.Equal("relayout", b.GetProperty("method").GetString()));
        Assert.Equal("log", buttons[1].GetProperty("args")[0].GetProperty("yaxis.type").GetString());
    }

    [Fact]
    public void Loss_series_with_mismatched_lengths_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new LossChart([new LossSeries("p", [0, 1, 2], [1.0, 2.0])]));
        Assert.Contains("'p' has 3 steps but 2 values", e.Message);
    }

    [Fact]
    public void Loss_chart_plain_text_lists_each_series_last_and_min()
    {
        var text = TwoPromptsAndTotal(4).ToDisplayString("text/plain");
        Assert.Contains("3 series over 4 recorded steps", text);
        Assert.Contains("a red cat: last 0.25, min 0.25", text);
    }

    [Fact]
    public void Zero_shot_scores_are_horizontal_bars_best_on_top()
    {
        var scores = new ZeroShotScores(["dog", "cat", "car"], [0.2f, 0.7f, 0.1f]);
        Assert.Equal("cat", scores.Best.Label);
        var trace = Assert.Single(HtmlProbe.Traces(Assert.Single(HtmlProbe.Figures(scores.ToDisplayString("text/html")))));
        Assert.Equal("h", trace.GetProperty("orientation").GetString());
        // Plotly draws the first category at the bottom, so the best comes last.
        Assert.Equal(["car", "dog", "cat"], trace.GetProperty("y").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(0.7, trace.GetProperty("x")[2].GetDouble(), 6);
        var text = scores.ToDisplayString("text/plain");
        Assert.True(text.IndexOf("cat", StringComparison.Ordinal) < text.IndexOf("dog", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new ZeroShotScores(["a"], [0.1f, 0.2f]));
    }

    [Fact]
    public void Zero_shot_bars_leave_room_for_whole_captions_in_a_projector_sized_font()
    {
        const string longest = "a small pink heart to the left of a big green tree on grass";
        var figure = Assert.Single(HtmlProbe.Figures(new ZeroShotScores([longest, "a red star"], [0.6f, 0.4f]).ToDisplayString("text/html")));
        var layout = figure.GetProperty("layout");
        Assert.True(layout.GetProperty("yaxis").GetProperty("automargin").GetBoolean());
        Assert.True(layout.GetProperty("margin").GetProperty("l").GetInt32() >= 8 * longest.Length, "left margin fits the longest caption");
        Assert.Equal(PlotlyFigure.FontSize, layout.GetProperty("font").GetProperty("size").GetInt32());
        Assert.True(PlotlyFigure.FontSize >= 14);
    }

    [Fact]
    public void A_clip_zero_shot_result_formats_one_chart_per_image()
    {
        var result = new VqganClip.Models.Clip.ZeroShotResult(["a cat", "a dog"], [[0.3f, 0.7f], [0.9f, 0.1f]], [[0.1f, 0.2f], [0.3f, 0.0f]]);
        var figures = HtmlProbe.Figures(result.ToDisplayString("text/html"));
        Assert.Equal(2, figures.Count);
        var second = Assert.Single(HtmlProbe.Traces(figures[1]));
        Assert.Equal(["a dog", "a cat"], second.GetProperty("y").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("image 1", result.ToDisplayString("text/plain"));
    }

    [Fact]
    public void Codebook_usage_counts_codes_and_maps_the_latent()
    {
        // 2x3 latent over an 8-code book: code 5 three times, 1 twice, 7 once.
        using var indices = torch.tensor(new long[] { 5, 1, 5, 7, 5, 1 }).reshape(1, 2, 3);
        var usage = CodebookUsage.FromIndices(indices, 8);
        Assert.Equal(3, usage.CodesUsed);
        Assert.Equal((5, 3L), usage.MostUsed);
        Assert.Equal(new long[] { 0, 2, 0, 0, 0, 3, 0, 1 }, usage.Counts);
        double expected = Math.Exp(-(0.5 * Math.Log(0.5) + (2 / 6.0) * Math.Log(2 / 6.0) + (1 / 6.0) * Math.Log(1 / 6.0)));
        Assert.Equal(expected, usage.Perplexity, 10);

        var figures = HtmlProbe.Figures(usage.ToDisplayString("text/html"));
        Assert.Equal(2, figures.Count);
        var histogram = Assert.Single(HtmlProbe.Traces(figures[0]));
        Assert.Equal(8, histogram.GetProperty("y").GetArrayLength());
        var heatmap = Assert.Single(HtmlProbe.Traces(figures[1]));
        Assert.Equal("heatmap", heatmap.GetProperty("type").GetString());
        var z = heatmap.GetProperty("z");
        Assert.Equal(2, z.GetArrayLength());
        Assert.Equal(7, z[1][0].GetInt32());

        using var outOfRange = torch.tensor(new long[] { 0, 9 }).reshape(1, 2);
        Assert.Contains("outside the codebook", Assert.Throws<ArgumentOutOfRangeException>(() => CodebookUsage.FromIndices(outOfRange, 8)).Message);
        using var flat = torch.tensor(new long[] { 0, 1, 2 });
        Assert.Contains("latentShape", Assert.Throws<ArgumentException>(() => CodebookUsage.FromIndices(flat, 8)).Message);
    }

    [Fact]
    public void Uniform_codebook_use_has_perplexity_equal_to_the_codes_used()
    {
        var usage = new CodebookUsage(new[,] { { 0, 1 }, { 2, 3 } }, 16);
        Assert.Equal(4.0, usage.Perplexity, 10);
    }

    [Fact]
    public void Any_plotly_net_chart_renders_offline_through_the_formatter()
    {
        var chart = Plotly.NET.CSharp.Chart.Point<int, int, string>(x: [1, 2, 3], y: [3, 1, 2], Name: "points");
        var html = chart.ToDisplayString("text/html");
        Assert.Equal("points", HtmlProbe.Name(Assert.Single(HtmlProbe.Traces(Assert.Single(HtmlProbe.Figures(html))))));
        Assert.DoesNotContain("<script src=", html);
    }
}
