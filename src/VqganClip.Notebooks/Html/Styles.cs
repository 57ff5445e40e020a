namespace VqganClip.Notebooks.Html;

/// <summary>
/// The few CSS rules every view uses. Each formatted output carries them inline in a &lt;style&gt; element
/// scoped by the <c>vqc</c> class, because a notebook output must render on its own (a cell's output can
/// be shown, cleared, or copied without the others); the rules are small, so repeating them costs little.
/// </summary>
public static class Styles
{
    public const string Css = """
        .vqc{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:13px;line-height:1.35}
        .vqc table.vqc-table{border-collapse:collapse;margin:4px 0}
        .vqc table.vqc-table th,.vqc table.vqc-table td{padding:2px 8px;border-bottom:1px solid rgba(128,128,128,.3);text-align:left;vertical-align:top}
        .vqc table.vqc-table td.num,.vqc table.vqc-table th.num{text-align:right;font-variant-numeric:tabular-nums}
        .vqc .vqc-caption{opacity:.75;font-size:12px}
        .vqc .vqc-title{font-weight:600;margin:2px 0 4px}
        .vqc figure{margin:0;display:inline-block;text-align:center}
        .vqc img.vqc-img{image-rendering:pixelated;display:block;margin:0 auto}
        .vqc .vqc-grid{display:grid;gap:6px;align-items:start}
        .vqc .vqc-row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
        .vqc .vqc-grid .vqc-head{font-weight:600;font-size:12px;align-self:center;text-align:center}
        .vqc code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
        """;

    /// <summary>Opens a view: a div with the vqc class and the style rules.</summary>
    public static string Open(string? extraClass = null) =>
        $"<div class=\"vqc{(extraClass is null ? "" : " " + extraClass)}\"><style>{Css}</style>";

    public const string Close = "</div>";
}
