using System.Text.Json.Nodes;
using VqganClip.Notebooks.Charts;
using static TorchSharp.torch;

namespace VqganClip.Tests.Notebooks;

public sealed class ClassVectorChartsTests
{
    private static readonly string[] Names = ["red star", "blue moon", "green tree", "pink heart"];

    [Fact]
    public void Bars_show_the_classes_with_the_largest_mean_weight_over_the_rows()
    {
        using var classes = tensor(new float[,] { { 0.1f, 0.9f, 0.0f, 0.3f }, { 0.3f, 0.5f, 0.2f, 0.1f } });
        var bars = ClassVectorCharts.Bars(classes, Names, top: 3);
        Assert.Equal(["blue moon", "red star", "pink heart"], bars.Ranked.Select(r => r.Label));
        Assert.Equal(0.7, bars.Ranked[0].Score, 6);
        Assert.Contains("blue moon", bars.ToHtml());
        Assert.Throws<ArgumentException>(() => ClassVectorCharts.Bars(classes, Names.Take(3).ToList()));
    }

    [Fact]
    public void Evolution_draws_one_line_per_top_class_through_every_moment()
    {
        using var early = tensor(new float[,] { { 0.5f, 0.1f, 0.1f, 0.1f } });
        using var late = tensor(new float[,] { { 0.2f, 0.8f, 0.6f, 0.1f } });
        var figure = ClassVectorCharts.Evolution([(0, early), (10, late)], Names, top: 2);
        Assert.Equal(2, figure.Data.Count);
        var first = (JsonObject)figure.Data[0]!;
        Assert.Equal("blue moon", first["name"]!.GetValue<string>());
        Assert.Equal([0, 10], first["x"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal(0.8, first["y"]!.AsArray()[1]!.GetValue<double>(), 6);
    }

    [Fact]
    public void The_latent_heatmap_has_a_row_per_latent_row()
    {
        using var latents = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        var figure = ClassVectorCharts.LatentHeatmap(latents);
        var z = ((JsonObject)figure.Data[0]!)["z"]!.AsArray();
        Assert.Equal(3, z.Count);
        Assert.Equal(7.0, z[1]!.AsArray()[3]!.GetValue<double>());
        Assert.Throws<ArgumentException>(() => ClassVectorCharts.LatentHeatmap(zeros(3)));
    }
}
