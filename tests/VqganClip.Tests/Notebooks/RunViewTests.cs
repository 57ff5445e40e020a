using Microsoft.DotNet.Interactive.Formatting;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Images;
using VqganClip.Notebooks.Runs;

namespace VqganClip.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public class RunViewTests
{
    public RunViewTests() => NotebookFormatters.Register();

    private static NotebookImage Picture(int w, int h) =>
        NotebookImage.FromPixels(Enumerable.Range(0, 3 * w * h).Select(i => (i % 5) / 4f).ToArray(), 3, h, w);

    private static RunView View(int step = 20) => new(
        "a lighthouse", Picture(40, 30), step, targetStep: 50,
        latestLosses: [("a lighthouse", 0.81), ("tv", 0.02)], total: 0.83, stepsPerSecond: 2.5,
        settings: [("CutCount", "32"), ("Optimizer", "Adam")],
        chart: new LossChart([new LossSeries("a lighthouse", [0, 10, 20], [0.9, 0.85, 0.81]), new LossSeries("total", [0, 10, 20], [0.95, 0.88, 0.83])]));

    [Fact]
    public void Run_view_shows_the_picture_beside_the_loss_chart_with_step_speed_and_losses()
    {
        var html = View().ToDisplayString("text/html");
        var image = Assert.Single(HtmlProbe.Images(html));
        Assert.Equal((40, 30), (image.Width, image.Height));
        var figure = Assert.Single(HtmlProbe.Figures(html));
        Assert.Equal(["a lighthouse", "total"], HtmlProbe.Traces(figure).Select(HtmlProbe.Name));
        Assert.Contains("step 20 / 50 · loss 0.83 · 2.50 it/s", html);
        Assert.Contains("<td>tv</td><td class=\"num\">0.02</td>", html);
        Assert.Contains("<td>Optimizer</td><td>Adam</td>", html);
        Assert.True(html.IndexOf("<img", StringComparison.Ordinal) < html.IndexOf(ChartHtml.ChartClass, StringComparison.Ordinal), "image first, chart beside it");
        Assert.StartsWith("a lighthouse: step 20 / 50", View().ToDisplayString("text/plain"));
    }

    [Fact]
    public void Before_the_first_step_the_view_shows_the_picture_and_no_empty_chart()
    {
        var view = new RunView("a lighthouse", Picture(64, 64), 0, null, [], null, null, [],
            new LossChart([new LossSeries("a lighthouse", [], []), new LossSeries("total", [], [])]));
        var html = view.ToDisplayString("text/html");
        Assert.Single(HtmlProbe.Images(html));
        Assert.Empty(HtmlProbe.Figures(html));
        Assert.Contains("No steps yet", html);
    }

    [Fact]
    public void A_live_view_that_carried_plotly_js_carries_it_in_its_updates_and_only_there()
    {
        var saved = (PlotlyJs.Inclusion, LiveView.Publisher);
        var outputs = new Dictionary<string, string>(); // the page: one output per id, updates replace
        try
        {
            PlotlyJs.Inclusion = PlotlyJsInclusion.OncePerSession;
            PlotlyJs.IncludeInNextChart();
            LiveView.Publisher = (id, value, isUpdate) =>
            {
                Assert.Equal(isUpdate, outputs.ContainsKey(id));
                outputs[id] = value.ToDisplayString("text/html");
            };
            var live = LiveView.Show(View(10));
            live.Update(View(20));
            var other = LiveView.Show(View(30));
            live.Update(View(40));
            other.Update(View(50));

            Assert.Equal(1, PlotlyJs.CountLibraryCopies(outputs[live.Id]));
            Assert.Contains("step 40", outputs[live.Id]);
            Assert.Equal(0, PlotlyJs.CountLibraryCopies(outputs[other.Id]));
            Assert.Equal(1, PlotlyJs.CountLibraryCopies(string.Concat(outputs.Values)));
        }
        finally { (PlotlyJs.Inclusion, LiveView.Publisher) = saved; }
    }

    [Fact]
    public void Comparison_has_one_chart_with_a_line_per_run_and_one_grid()
    {
        var comparison = new RunComparison(
        [
            ("vqgan", Picture(16, 16), new LossSeries("total", [0, 1, 2], [1.0, 0.9, 0.8])),
            ("pixels", Picture(16, 16), new LossSeries("total", [0, 1, 2, 3], [1.0, 0.95, 0.9, 0.85])),
            ("fourier", Picture(16, 16), new LossSeries("total", [0, 1], [1.0, 0.7])),
        ]);
        var html = comparison.ToDisplayString("text/html");
        var figure = Assert.Single(HtmlProbe.Figures(html));
        var traces = HtmlProbe.Traces(figure);
        Assert.Equal(["vqgan", "pixels", "fourier"], traces.Select(HtmlProbe.Name));
        Assert.Equal([3, 4, 2], traces.Select(t => t.GetProperty("y").GetArrayLength()));
        Assert.Equal(3, HtmlProbe.Images(html).Count);
        foreach (var name in new[] { "vqgan", "pixels", "fourier" }) Assert.Contains($"alt=\"{name}\"", html);
        Assert.Contains("3 runs", comparison.ToDisplayString("text/plain"));
        Assert.Contains("'a'", Assert.Throws<ArgumentException>(() => new RunComparison(
            [("a", null, new LossSeries("total", [0], [1.0])), ("a", null, new LossSeries("total", [0], [1.0]))])).Message);
    }

    [Fact]
    public void Step_report_view_lists_terms_total_and_learning_rate()
    {
        var view = new StepReportView(step: 41, completed: 2, target: 10, total: 0.7, terms: [("a cat", 0.6), ("tv", 0.1)],
                                      learningRate: 0.05, stepsPerSecond: 4, etaSeconds: 2, image: Picture(8, 8), cancelled: false);
        var html = view.ToDisplayString("text/html");
        Assert.Contains("step 41 · 2/10 in this call · loss 0.7 · 4.00 it/s · 2s left", html);
        Assert.Contains("<td>learning rate</td><td class=\"num\">0.05</td>", html);
        Assert.Single(HtmlProbe.Images(html));
        Assert.Contains("a cat: 0.6", view.ToDisplayString("text/plain"));
    }
}
