using Microsoft.DotNet.Interactive.Documents;
using VqganClip.Cli.Notebook;

namespace VqganClip.Tests.Notebooks;

/// <summary>Every notebook in notebooks/ runs start to finish through the runner (so the teaching notebooks cannot rot).</summary>
[Collection(NotebookCollection.Name)]
public class TeachingNotebookTests
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(Path.Combine(TestSetup.RepoRoot, "notebooks"), "*.ipynb").Order())
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Notebook_runs_without_errors(string name)
    {
        var path = Path.Combine(TestSetup.RepoRoot, "notebooks", name);
        var document = NotebookFile.Load(path);
        var result = await new NotebookRunner(Path.GetDirectoryName(path)!).RunAsync(document);
        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.DoesNotContain(result.Document.Elements.SelectMany(e => e.Outputs), o => o is ErrorElement);
        Assert.Contains(result.Document.Elements.SelectMany(e => e.Outputs), o => o is DisplayElement or ReturnValueElement);

        // What each notebook must show: at least this many images and plotly figures in its HTML outputs.
        var html = string.Concat(result.Document.Elements.SelectMany(e => e.Outputs).Select(o => o switch
        {
            DisplayElement d when d.Data.ContainsKey("text/html") => HtmlProbe.OutputText(d.Data, "text/html"),
            ReturnValueElement r when r.Data.ContainsKey("text/html") => HtmlProbe.OutputText(r.Data, "text/html"),
            _ => "",
        }));
        Assert.True(Expected.TryGetValue(name, out var expected), $"{name} has no entry in {nameof(Expected)}: say what it must show.");
        var images = HtmlProbe.Images(html).Count;
        var figures = HtmlProbe.Figures(html).Count;
        Assert.True(images >= expected.Images, $"{name}: {images} images, expected at least {expected.Images}.");
        Assert.True(figures >= expected.Figures, $"{name}: {figures} chart figures, expected at least {expected.Figures}.");
    }

    private static readonly Dictionary<string, (int Images, int Figures)> Expected = new()
    {
        ["01-quickstart.ipynb"] = (1, 1),          // run view: picture + loss chart
        ["02-step-by-step.ipynb"] = (4, 2),        // cutouts, snapshots, loss chart, codebook usage, comparison
        ["03-inside-vqgan.ipynb"] = (20, 2),       // 2 inputs, 4 round trip, 4 edited, 10 interpolations; codebook histogram + heat map
        ["04-inside-clip.ipynb"] = (1, 1),         // input picture, zero-shot bars
        ["05-compare-generators.ipynb"] = (4, 1),  // one final picture per generator, one loss chart
        ["06-real-weights.ipynb"] = (0, 0),        // without the downloaded files every cell after the first skips
        ["07-train-your-own.ipynb"] = (39, 4),     // 8 scenes, 6+6 reconstructions, 1 probe, 3×6 comparison; 2 training charts + 2 zero-shot bars
    };
}
