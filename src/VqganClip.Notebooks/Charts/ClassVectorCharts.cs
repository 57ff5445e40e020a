using System.Text.Json.Nodes;
using TorchSharp;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Charts;

/// <summary>
/// Charts of a class-conditional generator's soft class vectors and latents, as Big Sleep optimises them (one row per
/// generator stage): the classes the rows weigh most as bars, how those weights move over the steps, and the
/// latents as a heat map (rows: gen_z and each block; columns: latent dimensions).
/// </summary>
public static class ClassVectorCharts
{
    /// <summary>Each class's weight averaged over the rows of <paramref name="classVectors"/> [L, C].</summary>
    public static double[] MeanWeights(torch.Tensor classVectors)
    {
        ArgumentNullException.ThrowIfNull(classVectors);
        if (classVectors.dim() != 2) throw new ArgumentException($"Class vectors are [rows, classes]; got [{string.Join(", ", classVectors.shape)}].", nameof(classVectors));
        using var _ = torch.no_grad();
        using var mean = classVectors.detach().to_type(torch.ScalarType.Float64).mean([0]).cpu();
        return mean.data<double>().ToArray();
    }

    /// <summary>The <paramref name="top"/> classes with the largest mean weight as bars, largest on top.</summary>
    public static ZeroShotScores Bars(torch.Tensor classVectors, IReadOnlyList<string> names, int top = 10, string title = "Class vector (mean over the rows)")
    {
        var weights = MeanWeights(classVectors);
        CheckNames(names, weights.Length);
        var best = Enumerable.Range(0, weights.Length).OrderByDescending(i => weights[i]).Take(top);
        return new ZeroShotScores(best.Select(i => (names[i], weights[i])), title);
    }

    /// <summary>
    /// The mean weight of each of the <paramref name="top"/> classes that weigh most at the last moment, one line each,
    /// over the recorded <paramref name="moments"/> (step, class vectors [L, C]).
    /// </summary>
    public static PlotlyFigure Evolution(IReadOnlyList<(int Step, torch.Tensor ClassVectors)> moments, IReadOnlyList<string> names, int top = 6,
        string title = "Class weights over the steps")
    {
        ArgumentNullException.ThrowIfNull(moments);
        if (moments.Count == 0) throw new ArgumentException("Record at least one moment.", nameof(moments));
        var weights = moments.Select(m => MeanWeights(m.ClassVectors)).ToList();
        CheckNames(names, weights[^1].Length);
        var last = weights[^1];
        var figure = new PlotlyFigure(title).AxisTitles("step", "mean weight");
        foreach (var c in Enumerable.Range(0, last.Length).OrderByDescending(i => last[i]).Take(top))
            figure.Add(PlotlyFigure.Line(names[c], moments.Select(m => m.Step), weights.Select(w => w[c]), width: 2));
        return figure;
    }

    /// <summary>The latents [L, D] as a heat map: row 0 feeds gen_z, row k+1 block k.</summary>
    public static PlotlyFigure LatentHeatmap(torch.Tensor latents, string title = "Latents (row 0: gen_z, row k+1: block k)")
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.dim() != 2) throw new ArgumentException($"Latents are [rows, dimensions]; got [{string.Join(", ", latents.shape)}].", nameof(latents));
        using var _ = torch.no_grad();
        using var cpu = latents.detach().to_type(torch.ScalarType.Float64).cpu();
        int rows = (int)cpu.shape[0], cols = (int)cpu.shape[1];
        var values = cpu.data<double>().ToArray();
        var z = new JsonArray(Enumerable.Range(0, rows)
            .Select(r => (JsonNode?)new JsonArray(Enumerable.Range(0, cols).Select(c => (JsonNode?)JsonValue.Create(values[r * cols + c])).ToArray())).ToArray());
        var figure = new PlotlyFigure(title, height: Math.Clamp(120 + 24 * rows, 220, 600))
            .Add(new JsonObject { ["type"] = "heatmap", ["name"] = "latents", ["colorscale"] = "RdBu", ["zmid"] = 0, ["z"] = z })
            .AxisTitles("dimension", "row");
        figure.Axis("yaxis")["autorange"] = "reversed";
        return figure;
    }

    /// <summary>A figure as notebook HTML (the toolkit's styles and plotly.js handling).</summary>
    public static string ToHtml(PlotlyFigure figure) => Styles.Open() + ChartHtml.Render(figure) + Styles.Close;

    private static void CheckNames(IReadOnlyList<string> names, int classes)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count != classes)
            throw new ArgumentException($"{names.Count} class names for {classes} classes.", nameof(names));
    }
}
