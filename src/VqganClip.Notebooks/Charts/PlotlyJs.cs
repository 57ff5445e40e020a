using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace VqganClip.Notebooks.Charts;

/// <summary>When formatted charts carry the plotly.js library with them.</summary>
public enum PlotlyJsInclusion
{
    /// <summary>
    /// The first chart formatted in this process carries the library, and so does every later formatting of the
    /// object that first carried it (a live display that is updated keeps it, so the saved notebook still has
    /// a copy). Every other chart waits for <c>window.Plotly</c>, which VS Code's notebook webview shares
    /// between all outputs of a notebook.
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
    private static readonly ConditionalWeakTable<object, object> Carriers = new();
    private static bool _included;

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

    /// <summary>Whether the output formatted for <paramref name="owner"/> should carry the library (see <see cref="PlotlyJsInclusion"/>).</summary>
    public static bool ShouldInclude(object owner)
    {
        switch (Inclusion)
        {
            case PlotlyJsInclusion.EveryChart: return true;
            case PlotlyJsInclusion.Never: return false;
        }
        lock (Gate)
        {
            if (Carriers.TryGetValue(owner, out _)) return true;
            if (_included) return false;
            _included = true;
            Carriers.Add(owner, Gate);
            return true;
        }
    }

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
