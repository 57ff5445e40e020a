using VqganClip.Notebooks.Charts;

namespace VqganClip.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public class PlotlyJsTests
{
    private static LossChart Chart() => new([new LossSeries("p", [0, 1], [1.0, 0.5])]);

    [Fact]
    public void The_library_is_the_plotly_js_embedded_in_plotly_net()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", PlotlyJs.Version);
        Assert.Contains($"plotly.js v{PlotlyJs.Version}", PlotlyJs.Source);
        Assert.True(PlotlyJs.Source.Length > 1_000_000, "the full minified bundle");
        var script = PlotlyJs.ScriptElement();
        Assert.StartsWith($"<script {PlotlyJs.MarkerAttribute}=", script);
        Assert.Contains("if(typeof window.Plotly!=='undefined')return;", script);
        Assert.Equal(1, HtmlProbe.Count(script, "</script>"));
    }

    [Fact]
    public void Once_per_session_the_first_chart_carries_the_library_and_later_ones_do_not()
    {
        var saved = PlotlyJs.Inclusion;
        try
        {
            PlotlyJs.Inclusion = PlotlyJsInclusion.OncePerSession;
            PlotlyJs.IncludeInNextChart();
            var first = Chart();
            string a = first.ToHtml(), b = Chart().ToHtml(), c = Chart().ToHtml();
            Assert.Equal(1, PlotlyJs.CountLibraryCopies(a));
            Assert.Equal(0, PlotlyJs.CountLibraryCopies(b));
            Assert.Equal(0, PlotlyJs.CountLibraryCopies(c));
            // Formatting the first chart again is another output: it does not carry a second copy (a live view that
            // replaces the carrying output re-arms the library itself: RunViewTests).
            Assert.Equal(0, PlotlyJs.CountLibraryCopies(first.ToHtml()));
            // A chart without the library waits for window.Plotly instead.
            Assert.Contains("setInterval", b);

            PlotlyJs.Inclusion = PlotlyJsInclusion.EveryChart;
            Assert.Equal(1, PlotlyJs.CountLibraryCopies(Chart().ToHtml()));
            PlotlyJs.Inclusion = PlotlyJsInclusion.Never;
            Assert.Equal(0, PlotlyJs.CountLibraryCopies(first.ToHtml()));
        }
        finally
        {
            PlotlyJs.Inclusion = saved;
        }
    }

    [Fact]
    public void Strip_library_removes_every_copy_and_nothing_else()
    {
        var html = "<p>a</p>" + PlotlyJs.ScriptElement() + "<p>b</p>" + PlotlyJs.ScriptElement() + "<script>var x=1;</script>";
        Assert.Equal(2, PlotlyJs.CountLibraryCopies(html));
        Assert.Equal("<p>a</p><p>b</p><script>var x=1;</script>", PlotlyJs.StripLibrary(html));
    }
}
