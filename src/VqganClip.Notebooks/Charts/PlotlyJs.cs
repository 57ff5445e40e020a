using System.Reflection;
using System.Text.RegularExpressions;

namespace VqganClip.Notebooks.Charts;

/// <summary>When formatted charts carry the plotly.js library with them.</summary>
public enum PlotlyJsInclusion
{
    /// <summary>
    /// The first chart formatted in this process carries the library; every other chart waits for
    /// <c>window.Plotly</c>, which the notebook page (VS Code's webview, Jupyter's page) shares between all outputs, so
    /// a saved notebook holds exactly one copy. A <see cref="LiveView"/> whose output carried it re-arms it for its
    /// updates, which replace that output.
    /// </summary>
    OncePerSession,

    /// <summary>Every chart carries its own copy (3.6 MB each): for hosts that isolate outputs in separate frames.</summary>
    EveryChart,

    /// <summary>No chart carries it: the host page provides plotly.js (e.g. the HTML report puts one copy at the top).</summary>
    Never,
}

/// <summary>
/// The plotly.js that Plotly.NET embeds in Plotly.NET.dll (resource <c>Plotly.NET.plotly-&lt;version&gt;.min.js</c>),
/// so charts render offline, and the bookkeeping that keeps it to one copy per page.
/// </summary>
public static class PlotlyJs
{
    /// <summary>The attribute that marks the script element holding the library (the report strips all of them and adds one).</summary>
    public const string MarkerAttribute = "data-vqganclip-plotlyjs";

    private static readonly Lazy<(string Version, string Source)> Library = new(LoadLibrary);
    private static readonly object Gate = new();
    private static bool _included;
    private static long _copiesEmitted;

    public static PlotlyJsInclusion Inclusion { get; set; } = PlotlyJsInclusion.OncePerSession;

    /// <summary>The plotly.js version Plotly.NET ships, e.g. "2.28.0".</summary>
    public static string Version => Library.Value.Version;

    /// <summary>The minified library, with "&lt;/" escaped so it can sit inside a script element.</summary>
    public static string Source => Library.Value.Source;

    /// <summary>
    /// A script element that defines <c>window.Plotly</c> unless it already exists. <c>define</c>, <c>module</c> and
    /// <c>exports</c> are shadowed so the UMD bundle sets the global even where require.js is present (Jupyter).
    /// </summary>
    public static string ScriptElement() =>
        $"<script {MarkerAttribute}=\"{Version}\">(function(){{if(typeof window.Plotly!=='undefined')return;var define,module,exports;\n{Source}\n}}).call(window);</script>";

    /// <summary>The CDN address of the same version, used only as a last resort by a chart that finds no library on its page.</summary>
    public static string CdnUrl => $"https://cdn.plot.ly/plotly-{Version}.min.js";

    /// <summary>Whether the chart being formatted should carry the library (see <see cref="PlotlyJsInclusion"/>).</summary>
    public static bool ShouldInclude()
    {
        switch (Inclusion)
        {
            case PlotlyJsInclusion.EveryChart: Interlocked.Increment(ref _copiesEmitted); return true;
            case PlotlyJsInclusion.Never: return false;
        }
        lock (Gate)
        {
            if (_included) return false;
            _included = true;
            _copiesEmitted++;
            return true;
        }
    }

    /// <summary>
    /// How many chart outputs have carried the library in this process. A live view compares it before and after
    /// formatting: an output that carried the library must carry it again when it is replaced (see LiveView).
    /// </summary>
    public static long CopiesEmitted => Interlocked.Read(ref _copiesEmitted);

    /// <summary>Makes the next chart carry the library again (e.g. after clearing the output that carried it).</summary>
    public static void IncludeInNextChart()
    {
        lock (Gate) _included = false;
    }

    private static readonly Regex LibraryScript = new(
        $"<script {MarkerAttribute}=\"[^\"]*\">.*?</script>", RegexOptions.Singleline | RegexOptions.Compiled);

    /// <summary>Removes every library script element from an HTML fragment.</summary>
    public static string StripLibrary(string html) => LibraryScript.Replace(html, "");

    /// <summary>How many library script elements an HTML text holds.</summary>
    public static int CountLibraryCopies(string html) => LibraryScript.Matches(html).Count;

    private static (string, string) LoadLibrary()
    {
        // Loaded by name and only read for its resource: touching Plotly.NET's types would need FSharp.Core 10.1.
        var assembly = System.Reflection.Assembly.Load(new AssemblyName("Plotly.NET"));
        var name = assembly.GetManifestResourceNames()
            .FirstOrDefault(n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
            ?? throw new InvalidOperationException(
                $"Plotly.NET ({assembly.GetName().Version}) no longer embeds plotly.min.js as a resource; offline charts need it. Resources: {string.Join(", ", assembly.GetManifestResourceNames())}");
        var version = name["Plotly.NET.plotly-".Length..^".min.js".Length];
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        var source = Regex.Replace(reader.ReadToEnd(), "</(script)", "<\\/$1", RegexOptions.IgnoreCase);
        return (version, source);
    }
}
