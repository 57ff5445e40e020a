using Microsoft.DotNet.Interactive.Formatting;
using VqganClip.Guidance;
using VqganClip.Guidance.Running;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Charts;
using VqganClip.Notebooks.Runs;
using VqganClip.Guidance.Generators;
using VqganClip.Models.Clip;

namespace VqganClip.Tests.Notebooks;

/// <summary>The tiny fixture CLIP, loaded once; the runs use small pixel and Fourier generators (no VQGAN needed).</summary>
public sealed class TinyClip : IDisposable
{
    public ClipModel Clip { get; } = ClipModel.Load(TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors"));

    public IImageGenerator Make(string kind) => kind switch
    {
        "pixels" => new PixelGenerator(40, 40),
        "fourier" => new FourierGenerator(40, 40),
        _ => throw new ArgumentException(kind),
    };

    public void Dispose() => Clip.Dispose();
}

[Collection(NotebookCollection.Name)]
public class GuidedRunViewTests : IClassFixture<TinyClip>
{
    private readonly TinyClip _m;

    public GuidedRunViewTests(TinyClip models)
    {
        _m = models;
        NotebookFormatters.Register();
    }

    private GuidedRun NewRun(long seed = 1, string kind = "pixels") => GuidedRun.Create(_m.Make(kind), _m.Clip, "a red rose|a blue sky:-0.5",
        new GuidanceOptions { CutCount = 4, SnapshotEvery = 5, TotalVariationWeight = 0.1, Seed = seed });

    [Fact]
    public void Step_live_hands_a_run_view_to_the_display_every_k_steps()
    {
        using var run = NewRun();
        var updates = new List<object>();
        var last = run.StepLive(12, every: 4, updates.Add);

        Assert.Equal(12, last.TotalSteps);
        Assert.Equal(3, updates.Count);
        var views = updates.Cast<RunView>().ToList();
        Assert.Equal([4, 8, 12], views.Select(v => v.Step));
        // The chart of the view after step 8 ends at step 8, as its headline says.
        Assert.Equal(8, views[1].Chart.Series[^1].Steps[^1]);
        Assert.Equal([(int?)12, 12, null], views.Select(v => v.TargetStep));
        var html = views[1].ToHtml();
        var image = Assert.Single(HtmlProbe.Images(html));
        Assert.Equal((40, 40), (image.Width, image.Height));
        var traces = HtmlProbe.Traces(Assert.Single(HtmlProbe.Figures(html)));
        Assert.Equal(run.Prompts.Select(p => p.Label).Append(run.Regularizers[0].Name).Append("total"), traces.Select(HtmlProbe.Name));
        Assert.All(traces, t => Assert.Equal(8, t.GetProperty("y").GetArrayLength()));
        Assert.Contains($"<td>{run.Prompts[0].Label}</td>", html);
    }

    [Fact]
    public void Loss_chart_of_the_history_has_every_step_per_prompt_and_the_total()
    {
        using var run = NewRun();
        run.Step(6);
        var chart = run.LossChart();
        Assert.Equal(run.Prompts.Count + run.Regularizers.Count + 1, chart.Series.Count);
        var total = chart.Series[^1];
        Assert.Equal(LossChart.TotalName, total.Name);
        // Step numbers 1..6: after six steps the chart ends at step 6, as the view says "step 6".
        Assert.Equal(Enumerable.Range(1, 6), total.Steps);
        Assert.Equal(run.History.Select(h => h.Total), total.Values);

        // run.History itself displays as the chart.
        var figure = Assert.Single(HtmlProbe.Figures(run.History.ToDisplayString("text/html")));
        Assert.Equal("total", HtmlProbe.Name(HtmlProbe.Traces(figure)[^1]));
    }

    [Fact]
    public void A_guided_run_and_its_step_report_format_through_the_toolkit()
    {
        using var run = NewRun();
        var report = run.Step(3);
        var runHtml = run.ToDisplayString("text/html");
        Assert.Single(HtmlProbe.Images(runHtml));
        Assert.Single(HtmlProbe.Figures(runHtml));
        Assert.Contains("step 3", runHtml);
        Assert.Contains("<td>CutCount</td><td>4</td>", runHtml);

        var reportHtml = report.ToDisplayString("text/html");
        Assert.Contains("step 3 · 3/3 in this call", reportHtml);
        Assert.Single(HtmlProbe.Images(reportHtml));
        Assert.Contains(run.Prompts[1].Label, report.ToDisplayString("text/plain"));
    }

    [Fact]
    public void Snapshot_and_cutout_grids_show_what_the_run_kept_and_what_clip_sees()
    {
        using var run = NewRun();
        run.Step(11);
        var snapshots = run.SnapshotGrid();
        Assert.Equal(["step 0", "step 5", "step 10"], snapshots.Images.Select(i => i.Label));

        var cutouts = run.CutoutGrid();
        Assert.Equal(4, cutouts.Images.Count);
        Assert.All(cutouts.Images, i => Assert.Equal((_m.Clip.ImageSize, _m.Clip.ImageSize), (i.Width, i.Height)));
        Assert.Equal(4, HtmlProbe.Images(cutouts.ToHtml()).Count);

        using var bare = GuidedRun.Create(_m.Make("pixels"), _m.Clip, "a cat", new GuidanceOptions { CutCount = 2 });
        Assert.Contains("SnapshotEvery", Assert.Throws<InvalidOperationException>(() => bare.SnapshotGrid()).Message);
    }

    [Fact]
    public void Runs_compare_in_one_chart_and_one_grid()
    {
        using var a = NewRun(1);
        using var b = NewRun(2, "fourier");
        a.Step(3);
        b.Step(5);
        var html = GuidedRunViews.Compare(("pixels", a), ("fourier", b)).ToHtml();
        var traces = HtmlProbe.Traces(Assert.Single(HtmlProbe.Figures(html)));
        Assert.Equal(["pixels", "fourier"], traces.Select(HtmlProbe.Name));
        Assert.Equal([3, 5], traces.Select(t => t.GetProperty("y").GetArrayLength()));
        Assert.Equal(2, HtmlProbe.Images(html).Count);
    }
}
