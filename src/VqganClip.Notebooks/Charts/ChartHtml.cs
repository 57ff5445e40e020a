using System.Text.RegularExpressions;
using Plotly.NET;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Charts;

/// <summary>
/// Renders a plotly.js figure (a toolkit <see cref="PlotlyFigure"/> or a Plotly.NET chart) as an HTML fragment that works offline: a div, the figure as JSON in a
/// <c>&lt;script type="application/json"&gt;</c>, and a small script that draws it with <c>window.Plotly</c>.
/// The library itself comes from <see cref="PlotlyJs"/> (at most once per page); a chart that finds no library
/// waits for it (another output may still be loading it) and only then tries the CDN.
/// Plotly.NET's own HTML (toChartHTML) references the CDN or require.js, hence this renderer.
/// </summary>
public static class ChartHtml
{
    /// <summary>The class of every chart div (the browser test looks for it).</summary>
    public const string ChartClass = "vqc-chart";

    /// <summary>The figure JSON Plotly.NET produces for a chart (data, layout, frames). Needs FSharp.Core 10.1 (see <see cref="PlotlyFigure"/>).</summary>
    public static string FigureJson(GenericChart chart) => GenericChart.toFigureJson(chart);

    /// <summary>A Plotly.NET chart's HTML fragment (hosts where Plotly.NET runs: the notebook runner, applications, tests).</summary>
    public static string Render(GenericChart chart, int heightPx = 340, int maxWidthPx = 760) =>
        Render(FigureJson(chart), heightPx, maxWidthPx);

    /// <summary>A toolkit figure's HTML fragment.</summary>
    public static string Render(PlotlyFigure figure, int maxWidthPx = 760) =>
        Render(figure.ToJson(), figure.Layout["height"]?.GetValue<int>() ?? 340, maxWidthPx);

    /// <summary>The HTML fragment for a figure given as plotly.js JSON ({data, layout}) (whether it carries plotly.js: <see cref="PlotlyJs.ShouldInclude"/>).</summary>
    /// <remarks>
    /// The chart fills its div (width 100%, up to <paramref name="maxWidthPx"/>): the drawing script drops the
    /// figure's fixed layout width, so charts placed side by side share the row instead of wrapping.
    /// </remarks>
    public static string Render(string figureJson, int heightPx = 340, int maxWidthPx = 760)
    {
        var id = "vqc-chart-" + Guid.NewGuid().ToString("N")[..12];
        var library = PlotlyJs.ShouldInclude() ? PlotlyJs.ScriptElement() : "";
        return library +
               $"<div class=\"{ChartClass}\" id=\"{id}\" style=\"width:100%;max-width:{maxWidthPx}px;min-width:280px;height:{heightPx}px\"></div>" +
               $"<script type=\"application/json\" id=\"{id}-figure\">{figureJson.Replace("</", "<\\/", StringComparison.Ordinal)}</script>" +
               "<script>(function(){" +
               $"var id={HtmlText.JsString(id)};" +
               "function draw(){var el=document.getElementById(id);if(!el)return;" +
               "var f=JSON.parse(document.getElementById(id+'-figure').textContent);" +
               "var l=f.layout||(f.layout={});delete l.width;l.autosize=true;l.height=el.clientHeight||l.height;" +
               "window.Plotly.newPlot(el,f.data,f.layout,{responsive:true,displaylogo:false});" +
               // Follow the container, not just the window: flex rows and notebook panes settle after the first draw.
               "if(window.ResizeObserver){new ResizeObserver(function(){if(el.offsetWidth>0)window.Plotly.Plots.resize(el);}).observe(el);}}" +
               "if(typeof window.Plotly!=='undefined'){draw();return;}" +
               "var tries=0,timer=setInterval(function(){" +
               "if(typeof window.Plotly!=='undefined'){clearInterval(timer);draw();}" +
               "else if(++tries>60){clearInterval(timer);var s=document.createElement('script');" +
               $"s.src={HtmlText.JsString(PlotlyJs.CdnUrl)};s.onload=draw;" +
               "s.onerror=function(){var el=document.getElementById(id);if(el)el.textContent='plotly.js is not loaded on this page: re-run the first chart cell, or call VqganClip.Notebooks.Charts.PlotlyJs.IncludeInNextChart().';};" +
               "document.head.appendChild(s);}},50);})();</script>";
    }

    private static readonly Regex FigureScript = new(
        "<script type=\"application/json\" id=\"(?<id>vqc-chart-[0-9a-f]+)-figure\">(?<json>.*?)</script>", RegexOptions.Singleline);

    /// <summary>The figure JSON texts embedded in an HTML text, in order (for tests and tools).</summary>
    public static IReadOnlyList<string> ExtractFigures(string html) =>
        FigureScript.Matches(html).Select(m => m.Groups["json"].Value.Replace("<\\/", "</", StringComparison.Ordinal)).ToList();
}
