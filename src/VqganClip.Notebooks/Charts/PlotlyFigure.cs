using System.Text.Json;
using System.Text.Json.Nodes;

namespace VqganClip.Notebooks.Charts;

/// <summary>
/// A plotly.js figure (data + layout) built as JSON, for the toolkit's own charts.
/// Hand-written instead of built with Plotly.NET because Plotly.NET 6 is compiled against FSharp.Core 10.1, and
/// the .NET Interactive kernel (1.0.0-beta.26120.1, the one Polyglot Notebooks runs) has FSharp.Core 10.0 loaded
/// already: any Plotly.NET call inside a notebook fails with "Could not load file or assembly FSharp.Core 10.1.0.0".
/// The figures use only plotly.js's documented trace and layout attributes. Plotly.NET still supplies plotly.js
/// itself (<see cref="PlotlyJs"/>) and charts users build with it render through the same offline HTML.
/// </summary>
public sealed class PlotlyFigure
{
    public PlotlyFigure(string? title = null, int height = 340)
    {
        Layout["height"] = height;
        Layout["font"] = new JsonObject { ["size"] = FontSize }; // readable on a projector
        Layout["margin"] = new JsonObject { ["l"] = 60, ["r"] = 20, ["t"] = title is null ? 30 : 60, ["b"] = 50 };
        if (title is not null) Layout["title"] = new JsonObject { ["text"] = title, ["x"] = 0.02 };
    }

    /// <summary>The chart font size in pixels (plotly's default, 12, is small on a projector).</summary>
    public const int FontSize = 14;

    public JsonArray Data { get; } = [];
    public JsonObject Layout { get; } = new();

    public PlotlyFigure Add(JsonObject trace)
    {
        Data.Add(trace);
        return this;
    }

    public PlotlyFigure AxisTitles(string? x, string? y)
    {
        if (x is not null) Axis("xaxis")["title"] = new JsonObject { ["text"] = x };
        if (y is not null) Axis("yaxis")["title"] = new JsonObject { ["text"] = y };
        return this;
    }

    /// <summary>The layout's axis object ("xaxis", "yaxis"), created on first use.</summary>
    public JsonObject Axis(string name)
    {
        if (Layout[name] is JsonObject axis) return axis;
        axis = new JsonObject();
        Layout[name] = axis;
        return axis;
    }

    /// <summary>A linear | log toggle for the y axis (an updatemenus button pair that relayouts yaxis.type).</summary>
    public PlotlyFigure LogScaleToggle(bool startLog = false)
    {
        static JsonObject Button(string label, string type) => new()
        {
            ["label"] = label, ["method"] = "relayout", ["args"] = new JsonArray(new JsonObject { ["yaxis.type"] = type }),
        };
        Axis("yaxis")["type"] = startLog ? "log" : "linear";
        Layout["updatemenus"] = new JsonArray(new JsonObject
        {
            ["type"] = "buttons", ["direction"] = "left", ["showactive"] = true, ["active"] = startLog ? 1 : 0,
            ["x"] = 1.0, ["xanchor"] = "right", ["y"] = 1.18, ["yanchor"] = "top",
            ["buttons"] = new JsonArray(Button("linear", "linear"), Button("log", "log")),
        });
        return this;
    }

    public string ToJson() => new JsonObject { ["data"] = Data.DeepClone(), ["layout"] = Layout.DeepClone() }.ToJsonString(Options);

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    public static JsonObject Line(string name, IEnumerable<int> x, IEnumerable<double> y, double width = 1.5, string dash = "solid") => new()
    {
        ["type"] = "scatter", ["mode"] = "lines", ["name"] = name,
        ["x"] = Array(x), ["y"] = Array(y.Select(Finite)),
        ["line"] = new JsonObject { ["width"] = width, ["dash"] = dash },
    };

    public static JsonObject HorizontalBars(IEnumerable<string> labels, IEnumerable<double> values, IEnumerable<string>? texts = null, string name = "score")
    {
        var trace = new JsonObject
        {
            ["type"] = "bar", ["orientation"] = "h", ["name"] = name,
            ["y"] = Array(labels), ["x"] = Array(values.Select(Finite)),
        };
        if (texts is not null) { trace["text"] = Array(texts); trace["textposition"] = "auto"; }
        return trace;
    }

    public static JsonObject Columns(IEnumerable<int> keys, IEnumerable<long> values, string name) => new()
    {
        ["type"] = "bar", ["name"] = name, ["x"] = Array(keys), ["y"] = Array(values),
    };

    public static JsonObject Heatmap(int[,] z, string name) => new()
    {
        ["type"] = "heatmap", ["name"] = name, ["colorscale"] = "Viridis",
        ["z"] = new JsonArray(Enumerable.Range(0, z.GetLength(0))
            .Select(r => (JsonNode?)Array(Enumerable.Range(0, z.GetLength(1)).Select(c => z[r, c]))).ToArray()),
    };

    private static JsonArray Array<T>(IEnumerable<T> values) => new(values.Select(v => v is null ? null : JsonValue.Create(v)).ToArray<JsonNode?>());

    /// <summary>JSON has no NaN/Infinity: non-finite values become null (a gap in the line).</summary>
    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
