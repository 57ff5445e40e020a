using Microsoft.DotNet.Interactive.Documents;
using Microsoft.Playwright;
using VqganClip.Cli.Notebook;
using Xunit.Abstractions;

namespace VqganClip.Tests.Notebooks;

/// <summary>
/// A browser test: needs Debian's chromium at /usr/bin/chromium (Playwright drives it with its bundled node
/// driver; no browser is downloaded). Skipped with a message when chromium is absent outside CI; in CI
/// (CI=true) it always runs, so a missing browser fails.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!File.Exists(ChromiumPath) && !ci)
            Skip = $"{ChromiumPath} is not installed (apt-get install -y chromium); the browser test runs wherever it is, and always in CI.";
    }
}

[Collection(NotebookCollection.Name)]
public class ReportBrowserTests
{
    private readonly ITestOutputHelper _output;

    public ReportBrowserTests(ITestOutputHelper output) => _output = output;

    private static readonly string[] Cells =
    [
        "using VqganClip.Notebooks.Images;\nusing VqganClip.Notebooks.Charts;\nusing TorchSharp;\ntorch.manual_seed(7);",
        "torch.rand(1, 3, 48, 64).AsImage(\"noise\")",
        "torch.rand(6, 3, 24, 24).AsGrid(title: \"cutouts\")",
        "new LossChart(new[] { new LossSeries(\"a lighthouse\", new[] { 0, 10, 20, 30 }, new[] { 0.9, 0.7, 0.6, 0.55 }), new LossSeries(\"total\", new[] { 0, 10, 20, 30 }, new[] { 1.0, 0.8, 0.7, 0.6 }) })",
        "new ZeroShotScores(new[] { \"a small pink heart to the left of a big green tree\", \"a red star above a blue house\", \"a boat\" }, new[] { 0.7f, 0.2f, 0.1f })",
        "CodebookUsage.FromIndices(torch.randint(0, 32, new long[] { 1, 6, 8 }), 32)",
    ];

    private const int ChartCount = 4; // loss, zero-shot, codebook histogram + heat map
    private const int ImageCount = 1 + 6;

    private static async Task<InteractiveDocument> RunCells()
    {
        var doc = new InteractiveDocument(Cells.Select(c => new InteractiveDocumentElement(c, "csharp")).ToList());
        var result = await new NotebookRunner(Path.GetTempPath()).RunAsync(doc);
        Assert.True(result.Succeeded, result.Failure?.Message);
        return result.Document;
    }

    [ChromiumFact]
    public async Task Html_report_renders_every_image_and_chart_without_console_errors()
    {
        var document = await RunCells();
        var dir = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(dir);
        var report = Path.Combine(dir, "notebook-report.html");
        await File.WriteAllTextAsync(report, NotebookHtmlReport.Render(document, "browser test"));

        await CheckPage(report, Path.Combine(dir, "notebook-report.png"));
    }

    [ChromiumFact]
    public async Task Outputs_sharing_one_page_as_in_vs_code_draw_with_the_first_outputs_plotly_js()
    {
        // VS Code renders every text/html output of a notebook into one webview document: concatenate the
        // outputs exactly as the ipynb holds them (only the first chart output carries plotly.js).
        var document = await RunCells();
        var fragments = document.Elements.SelectMany(e => e.Outputs).OfType<ReturnValueElement>().Select(r => (string)r.Data["text/html"]);
        var dir = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(dir);
        var page = Path.Combine(dir, "notebook-outputs.html");
        await File.WriteAllTextAsync(page, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>" + string.Concat(fragments) + "</body></html>");
        Assert.Equal(1, VqganClip.Notebooks.Charts.PlotlyJs.CountLibraryCopies(await File.ReadAllTextAsync(page)));

        await CheckPage(page, Path.Combine(dir, "notebook-outputs.png"));
    }

    private async Task CheckPage(string htmlPath, string screenshotPath)
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 900 } });
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add("console: " + message.Text); };
        page.PageError += (_, error) => errors.Add("page error: " + error);
        page.RequestFailed += (_, request) => errors.Add("request failed: " + request.Url);
        var external = new List<string>();
        page.Request += (_, request) => { if (!request.Url.StartsWith("file:", StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal)) external.Add(request.Url); };

        await page.GotoAsync(new Uri(htmlPath).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForFunctionAsync(
            $"() => document.querySelectorAll('.vqc-chart .main-svg').length >= {ChartCount}", null,
            new PageWaitForFunctionOptions { Timeout = 60_000 });

        var widths = await page.EvaluateAsync<int[]>("() => Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)");
        Assert.Equal(ImageCount, widths.Length);
        Assert.All(widths, w => Assert.True(w > 0, "every image decodes"));
        var charts = await page.EvaluateAsync<int>("() => document.querySelectorAll('.vqc-chart').length");
        var drawn = await page.EvaluateAsync<int>("() => Array.from(document.querySelectorAll('.vqc-chart')).filter(c => c.querySelector('.main-svg')).length");
        Assert.Equal(ChartCount, charts);
        Assert.Equal(ChartCount, drawn);
        var lossTraces = await page.EvaluateAsync<int>("() => document.querySelectorAll('.vqc-chart')[0].querySelectorAll('.scatterlayer .trace').length");
        Assert.Equal(2, lossTraces);

        // The zero-shot bars' captions are drawn whole: no tick label starts left of its chart.
        var clipped = await page.EvaluateAsync<int>(@"() => { const chart = document.querySelectorAll('.vqc-chart')[1];
            const left = chart.getBoundingClientRect().left;
            return Array.from(chart.querySelectorAll('.ytick text')).filter(t => t.getBoundingClientRect().left < left - 0.5).length; }");
        Assert.Equal(0, clipped);

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshotPath, FullPage = true });
        _output.WriteLine($"screenshot: {screenshotPath}");
        Assert.Empty(errors);
        Assert.Empty(external);
    }
}
