using System.Collections;
using System.Text;
using System.Text.Json;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Microsoft.DotNet.Interactive.Documents;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Html;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// An executed notebook as one self-contained HTML page: markdown cells through Markdig (local images inlined as
/// data URIs), code cells escaped, and their outputs (HTML as produced by the formatters, PNGs, text, errors).
/// plotly.js appears exactly once, at the top, when any output holds a chart: the copies that outputs carried
/// for the notebook are removed.
/// </summary>
public static class NotebookHtmlReport
{
    private static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static string Render(InteractiveDocument document, string title, string? baseDirectory = null, NotebookCellException? failure = null)
    {
        var body = new StringBuilder();
        if (failure is not null)
            body.Append($"<div class=\"failure\"><strong>The run stopped at cell {failure.CellNumber}.</strong><pre>{HtmlText.Encode(failure.Message)}</pre></div>");
        for (int i = 0; i < document.Elements.Count; i++)
        {
            var cell = document.Elements[i];
            if (NotebookRunner.IsMarkdown(cell))
            {
                body.Append($"<section class=\"md\" id=\"cell-{i + 1}\">{MarkdownToHtml(cell.Contents, baseDirectory)}</section>");
                continue;
            }
            var prompt = cell.ExecutionOrder > 0 ? $"[{cell.ExecutionOrder}]" : "[ ]";
            body.Append($"<section class=\"cell\" id=\"cell-{i + 1}\"><div class=\"prompt\">{prompt}</div><div class=\"content\">");
            body.Append($"<pre class=\"code\"><code class=\"language-{HtmlText.Encode(cell.KernelName ?? "csharp")}\">{HtmlText.Encode(cell.Contents)}</code></pre>");
            foreach (var output in cell.Outputs) body.Append("<div class=\"output\">").Append(RenderOutput(output)).Append("</div>");
            body.Append("</div></section>");
        }

        var content = PlotlyJs.StripLibrary(body.ToString());
        bool hasCharts = content.Contains($"class=\"{ChartHtml.ChartClass}\"", StringComparison.Ordinal);
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        page.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        page.Append($"<title>{HtmlText.Encode(title)}</title><style>{PageCss}</style>");
        if (hasCharts) page.Append(PlotlyJs.ScriptElement());
        page.Append("</head><body><main>");
        page.Append(content);
        page.Append("</main></body></html>\n");
        return page.ToString();
    }

    private static string RenderOutput(InteractiveDocumentOutputElement output) => output switch
    {
        DisplayElement d => RenderData(d.Data),
        ReturnValueElement r => RenderData(r.Data),
        TextElement t => $"<pre class=\"stream {HtmlText.Encode(t.Name)}\">{HtmlText.Encode(t.Text)}</pre>",
        ErrorElement e => $"<pre class=\"error\"><strong>{HtmlText.Encode(e.ErrorName)}: {HtmlText.Encode(e.ErrorValue)}</strong>\n{HtmlText.Encode(string.Join("\n", e.StackTrace ?? []))}</pre>",
        _ => "",
    };

    private static string RenderData(IDictionary<string, object> data)
    {
        if (Text(data, "text/html") is { } html) return html;
        if (Text(data, "image/svg+xml") is { } svg) return svg;
        if (Text(data, "image/png") is { } png) return $"<img src=\"data:image/png;base64,{png.Trim()}\" alt=\"output image\">";
        if (Text(data, "image/jpeg") is { } jpeg) return $"<img src=\"data:image/jpeg;base64,{jpeg.Trim()}\" alt=\"output image\">";
        if (Text(data, "text/markdown") is { } md) return Markdig.Markdown.ToHtml(md, Markdown);
        if (Text(data, "text/plain") is { } plain) return $"<pre class=\"plain\">{HtmlText.Encode(plain)}</pre>";
        return "";
    }

    /// <summary>An output's data for a MIME type, whether stored as a string, a list of lines, or JSON (as read from a file).</summary>
    private static string? Text(IDictionary<string, object> data, string mimeType)
    {
        if (!data.TryGetValue(mimeType, out var value) || value is null) return null;
        return value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } j => j.GetString(),
            JsonElement { ValueKind: JsonValueKind.Array } j => string.Concat(j.EnumerateArray().Select(x => x.ToString())),
            JsonElement j => j.GetRawText(),
            IEnumerable lines => string.Concat(lines.Cast<object?>().Select(x => x?.ToString())),
            _ => value.ToString(),
        };
    }

    private static string MarkdownToHtml(string markdown, string? baseDirectory)
    {
        var doc = Markdig.Markdown.Parse(markdown, Markdown);
        if (baseDirectory is not null)
        {
            foreach (var link in doc.Descendants<LinkInline>().Where(l => l.IsImage && l.Url is not null))
            {
                if (link.Url!.Contains("://", StringComparison.Ordinal) || link.Url.StartsWith("data:", StringComparison.Ordinal)) continue;
                var path = Path.Combine(baseDirectory, Uri.UnescapeDataString(link.Url));
                if (!File.Exists(path)) continue;
                var mime = Path.GetExtension(path).ToLowerInvariant() switch
                {
                    ".png" => "image/png", ".jpg" or ".jpeg" => "image/jpeg", ".gif" => "image/gif", ".svg" => "image/svg+xml", _ => null,
                };
                if (mime is not null) link.Url = $"data:{mime};base64,{Convert.ToBase64String(File.ReadAllBytes(path))}";
            }
        }
        return doc.ToHtml(Markdown);
    }

    private const string PageCss = """
        body{margin:0;background:#fafafa;color:#222;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
        main{max-width:1100px;margin:0 auto;padding:24px}
        section{margin:12px 0}
        section.cell{display:flex;gap:8px}
        .prompt{flex:0 0 48px;color:#888;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;padding-top:8px;text-align:right}
        .content{flex:1 1 auto;min-width:0}
        pre.code{background:#f0f0f3;border:1px solid #ddd;border-radius:4px;padding:8px;overflow-x:auto;margin:0;font-size:12.5px}
        .output{margin:6px 0;overflow-x:auto}
        pre.plain,pre.stream{margin:0;font-size:12.5px;white-space:pre-wrap}
        pre.stderr{color:#a33}
        pre.error{background:#fdecec;border:1px solid #e3a5a5;color:#8a1f1f;padding:8px;white-space:pre-wrap;font-size:12.5px}
        .failure{background:#fdecec;border:1px solid #e3a5a5;padding:8px 12px;border-radius:4px}
        .md img{max-width:100%}
        .md table{border-collapse:collapse}.md td,.md th{border:1px solid #ccc;padding:2px 6px}
        """;
}
