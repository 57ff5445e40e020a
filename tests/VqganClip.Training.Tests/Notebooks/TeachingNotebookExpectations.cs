using System.Text.Json;
using VqganClip.Notebooks.Charts;

using VqganClip.Tests.Notebooks;

namespace VqganClip.Training.Tests.Notebooks;

/// <summary>
/// What each teaching notebook must show once executed, checked on the saved .ipynb in the same way whether the
/// runner (<see cref="TeachingNotebookTests"/>) or Jupyter's nbconvert (<see cref="JupyterNotebookTests"/>) executed it,
/// so the two agree on every notebook: nbformat 4.5 with cell ids, no error output, exactly the images and charts listed
/// here (a live view counts once: its updates replace it), one copy of plotly.js when there are charts, and every image
/// stating its true size, small ones enlarged by a whole factor.
/// </summary>
internal static class TeachingNotebookExpectations
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(Folder, "*.ipynb").Order())
            data.Add(Path.GetFileName(path));
        return data;
    }

    public static string Folder => Path.Combine(TestSetup.RepoRoot, "notebooks");

    private static readonly Dictionary<string, (int Images, int Figures)> Expected = new()
    {
        ["01-quickstart.ipynb"] = (3, 2),          // run at step 0 (picture, no chart yet), live view, final view
        ["02-step-by-step.ipynb"] = (27, 5),       // run at step 0, 16 cutouts, live view, 6 snapshots, 3-run comparison; live view, loss chart, codebook usage (2), comparison
        ["03-inside-vqgan.ipynb"] = (20, 2),       // 2 inputs, 4 round trip, 4 edited, 10 interpolations; codebook histogram + heat map
        ["04-inside-clip.ipynb"] = (1, 1),         // the scene, zero-shot bars
        ["05-compare-generators.ipynb"] = (7, 1),  // one final picture per generator (biggan and stylegan included) and the transformer's, one loss chart
        ["06-real-weights.ipynb"] = (0, 0),        // without the downloaded files every cell after the first skips
        ["07-train-your-own.ipynb"] = (39, 4),     // 8 scenes, 6+6 reconstructions, 1 probe, 3×6 comparison; 2 training charts + 2 zero-shot bars
        // scene + decoded codes, 2×8 row-by-row live grid, 3×4 temperature/top-k, 3×4 captions, 8 ranked samples,
        // sliding window live picture + 6 moments, refinement live view + 5 snapshots, the one call's 9, by halves 4 + 4 + 9 joins;
        // codebook usage (2), refinement live chart, loss chart beside the snapshots
        ["08-transformer-stage.ipynb"] = (97, 4),
        // 4×4 class samples, live view, 6 snapshots, live vs average, CLIP's start before and after and upstream's (3),
        // the three generators; live chart, loss chart, class-vector bars at the start and the end, class weights over
        // the steps, latent heat map
        ["09-big-sleep.ipynb"] = (31, 6),
        // 3×5 style-mixing grid, live view, 8 snapshots, edit/free starts and ends (4); W+ heat map, live chart, loss
        // chart, the edit's W+ change as a heat map
        ["10-styleclip.ipynb"] = (28, 4),
        // the scene, 6 layers, 4 octave counts, 4 channels from grey, the input gradient's magnitude; no charts
        ["11-deepdream.ipynb"] = (16, 0),
        // 4 held-out pairs (8), 6 rows × (outline, G eval, G train mode, target) beside the loss chart, 6 rows × 3 of the
        // shipped model; the live loss chart, the loss chart beside the grid
        ["12-pix2pix.ipynb"] = (8 + 24 + 18, 2),
        // the 3 decibel bands, the typed and spoken pictures; the waveform, the audio-text heat map, the runs' loss chart
        ["13-audio-prompts.ipynb"] = (3 + 2, 3),
    };

    public static void AssertExecuted(string name, string executedPath)
    {
        Assert.True(Expected.TryGetValue(name, out var expected), $"{name} has no entry in {nameof(Expected)}: say what it must show.");
        var raw = File.ReadAllText(executedPath);
        var notebook = JsonDocument.Parse(raw).RootElement;

        Assert.Equal(4, notebook.GetProperty("nbformat").GetInt32());
        Assert.True(notebook.GetProperty("nbformat_minor").GetInt32() >= 5, $"{name}: nbformat 4.5 or later");
        var cells = notebook.GetProperty("cells").EnumerateArray().ToList();
        var ids = cells.Select(c => c.TryGetProperty("id", out var id) ? id.GetString() : null).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id), $"{name}: every cell has an id (nbformat 4.5)"));
        Assert.Equal(ids.Count, ids.Distinct().Count());

        var outputs = cells.Where(c => c.GetProperty("cell_type").GetString() == "code")
            .SelectMany(c => c.GetProperty("outputs").EnumerateArray()).ToList();
        var errors = outputs.Where(o => o.GetProperty("output_type").GetString() == "error")
            .Select(o => $"{o.GetProperty("ename").GetString()}: {o.GetProperty("evalue").GetString()}").ToList();
        Assert.True(errors.Count == 0, $"{name}: error outputs: {string.Join("; ", errors)}");

        var html = string.Concat(outputs
            .Where(o => o.TryGetProperty("data", out var d) && d.TryGetProperty("text/html", out _))
            .Select(o => Text(o.GetProperty("data").GetProperty("text/html"))));
        var images = HtmlProbe.Images(html); // checks data-width/height/scale against the PNG, nearest neighbour
        var figures = HtmlProbe.Figures(html);
        Assert.True(images.Count == expected.Images, $"{name}: {images.Count} images, expected {expected.Images}.");
        Assert.True(figures.Count == expected.Figures, $"{name}: {figures.Count} chart figures, expected {expected.Figures}.");
        Assert.Equal(expected.Figures > 0 ? 1 : 0, PlotlyJs.CountLibraryCopies(html));
        Assert.All(images, i => Assert.True(i.Width >= 256 || i.Scale >= 2, $"{name}: a {i.Width}×{i.Height} image is shown enlarged"));
        Assert.All(images.Where(i => i.Scale > 1), i => Assert.Contains($"{i.Width}×{i.Height} px, shown {i.Scale}×", html));
    }

    /// <summary>An ipynb string field: a string or a list of lines.</summary>
    private static string Text(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? string.Concat(value.EnumerateArray().Select(l => l.GetString())) : value.GetString() ?? "";
}
