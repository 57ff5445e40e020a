using System.Text.Json;
using Microsoft.DotNet.Interactive.Documents;
using VqganClip.Cli.Commands;
using VqganClip.Cli.Notebook;
using VqganClip.Notebooks.Charts;

namespace VqganClip.Tests.Notebooks;

/// <summary>Runs TestNotebooks/runner-demo.ipynb once and checks the executed notebook and the HTML report.</summary>
public sealed class RunnerDemoFixture
{
    public RunnerDemoFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "vqc-runner-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        Notebook = new FileInfo(Path.Combine(AppContext.BaseDirectory, "Notebooks", "TestNotebooks", "runner-demo.ipynb"));
        Executed = Path.Combine(Directory, "executed.ipynb");
        Report = Path.Combine(Directory, "report.html");
        var (console, text) = TestConsole.Create();
        ExitCode = NotebookCommand.RunAsync(Notebook, new FileInfo(Executed), new FileInfo(Report), console, CancellationToken.None).GetAwaiter().GetResult();
        ErrorText = text.ToString();
        if (!File.Exists(Executed)) throw new InvalidOperationException($"The runner wrote no notebook (exit code {ExitCode}): {ErrorText}");
        Document = NotebookFile.Load(Executed);
        Html = File.ReadAllText(Report);
    }

    public string Directory { get; }
    public FileInfo Notebook { get; }
    public string Executed { get; }
    public string Report { get; }
    public int ExitCode { get; }
    public string ErrorText { get; }
    public InteractiveDocument Document { get; }
    public string Html { get; }

    public InteractiveDocumentElement Cell(int number) => Document.Elements[number - 1];
}

internal static class TestConsole
{
    public static (Spectre.Console.IAnsiConsole Console, StringWriter Text) Create()
    {
        var text = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.No,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            Out = new Spectre.Console.AnsiConsoleOutput(text),
        });
        console.Profile.Width = 200;
        return (console, text);
    }
}

[Collection(NotebookCollection.Name)]
public class NotebookRunnerTests : IClassFixture<RunnerDemoFixture>
{
    private readonly RunnerDemoFixture _run;

    public NotebookRunnerTests(RunnerDemoFixture run) => _run = run;

    [Fact]
    public void A_failing_cell_stops_the_run_with_cell_number_line_and_source()
    {
        Assert.Equal(1, _run.ExitCode);
        Assert.Contains("Cell 7, line 3: InvalidOperationException: boom 2", _run.ErrorText);
        Assert.Contains("throw new InvalidOperationException($\"boom {after}\");", _run.ErrorText);

        var error = Assert.IsType<ErrorElement>(Assert.Single(_run.Cell(7).Outputs));
        Assert.Equal("InvalidOperationException", error.ErrorName);
        Assert.Equal("InvalidOperationException: boom 2", error.ErrorValue);
        Assert.StartsWith("Cell 7, line 3", error.StackTrace[0]);
        // The cell after the failure did not run.
        Assert.Empty(_run.Cell(8).Outputs);
        Assert.Equal(0, _run.Cell(8).ExecutionOrder);
    }

    [Fact]
    public void Display_writes_a_display_data_output_formatted_by_the_toolkit()
    {
        var display = Assert.IsType<DisplayElement>(Assert.Single(_run.Cell(2).Outputs));
        var html = HtmlProbe.OutputText(display.Data, "text/html");
        var image = Assert.Single(HtmlProbe.Images(html));
        Assert.Equal((32, 24), (image.Width, image.Height));
        Assert.Equal("stripes: image 32×24, range [0.000, 1.000]", HtmlProbe.OutputText(display.Data, "text/plain"));
    }

    [Fact]
    public void Updates_replace_the_displayed_output_and_console_text_is_a_stdout_stream()
    {
        var outputs = _run.Cell(3).Outputs;
        Assert.Equal(2, outputs.Count);
        var display = Assert.IsType<DisplayElement>(outputs[0]);
        Assert.Equal("step 3", HtmlProbe.OutputText(display.Data, "text/plain"));
        var stream = Assert.IsType<TextElement>(outputs[1]);
        Assert.Equal("stdout", stream.Name);
        Assert.Equal("hello from cell 3\n", stream.Text.Replace("\r\n", "\n"));
    }

    [Fact]
    public void A_trailing_expression_is_the_execute_result()
    {
        var result = Assert.IsType<ReturnValueElement>(Assert.Single(_run.Cell(4).Outputs));
        Assert.Equal(_run.Cell(4).ExecutionOrder, result.ExecutionOrder);
        var figure = Assert.Single(HtmlProbe.Figures(HtmlProbe.OutputText(result.Data, "text/html")));
        Assert.Equal(["a red cat", "total"], HtmlProbe.Traces(figure).Select(HtmlProbe.Name));

        var tensorImage = Assert.IsType<ReturnValueElement>(Assert.Single(_run.Cell(5).Outputs));
        var png = Assert.Single(HtmlProbe.Images(HtmlProbe.OutputText(tensorImage.Data, "text/html")));
        Assert.Equal((16, 16), (png.Width, png.Height));
    }

    [Fact]
    public void The_executed_notebook_keeps_markdown_and_polyglot_metadata()
    {
        var raw = JsonDocument.Parse(File.ReadAllText(_run.Executed)).RootElement;
        Assert.Equal(".net-csharp", raw.GetProperty("metadata").GetProperty("kernelspec").GetProperty("name").GetString());
        Assert.Equal("C#", raw.GetProperty("metadata").GetProperty("language_info").GetProperty("name").GetString());
        var cells = raw.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(8, cells.Count);
        Assert.Equal("markdown", cells[0].GetProperty("cell_type").GetString());
        Assert.Equal("csharp", cells[1].GetProperty("metadata").GetProperty("polyglot_notebook").GetProperty("kernelName").GetString());
        Assert.Equal("display_data", cells[1].GetProperty("outputs")[0].GetProperty("output_type").GetString());
        Assert.Equal("execute_result", cells[3].GetProperty("outputs")[0].GetProperty("output_type").GetString());
        Assert.Equal("error", cells[6].GetProperty("outputs")[0].GetProperty("output_type").GetString());
        Assert.Equal(1, cells[1].GetProperty("execution_count").GetInt32());
    }

    [Fact]
    public void The_ipynb_carries_plotly_js_once_in_the_first_chart_output()
    {
        var raw = File.ReadAllText(_run.Executed);
        // In the ipynb the script text is split into lines, so count the marker attribute.
        Assert.Equal(1, HtmlProbe.Count(raw, PlotlyJs.MarkerAttribute + "=\\\""));
    }

    [Fact]
    public void The_html_report_is_self_contained_with_one_plotly_js()
    {
        var html = _run.Html;
        Assert.Equal(1, PlotlyJs.CountLibraryCopies(html));
        Assert.True(html.IndexOf(PlotlyJs.MarkerAttribute, StringComparison.Ordinal) < html.IndexOf("<body>", StringComparison.Ordinal), "library in <head>");
        Assert.DoesNotContain("<script src=", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotMatch("<img[^>]+src=\"(?!data:)", html);
        Assert.Contains("<h1 id=\"runner-demo\">Runner demo</h1>", html);
        Assert.Contains("<em>small</em>", html);
        Assert.Contains("throw new InvalidOperationException($&quot;boom {after}&quot;);", html);
        Assert.Contains("The run stopped at cell 7.", html);
        Assert.Equal(2, HtmlProbe.Images(html).Count);
        Assert.Single(HtmlProbe.Figures(html));
    }
}

[Collection(NotebookCollection.Name)]
public class NotebookRunnerErrorTests
{
    private static InteractiveDocument Notebook(params string[] cells) =>
        new(cells.Select(c => new InteractiveDocumentElement(c, "csharp")).ToList());

    private static async Task<NotebookRunResult> Run(params string[] cells) =>
        await new NotebookRunner(Path.GetTempPath()).RunAsync(Notebook(cells));

    [Fact]
    public async Task A_compile_error_names_the_cell_line_and_diagnostic()
    {
        var result = await Run("var a = 1;", "var b = a;\nint c = \"text\";");
        var failure = Assert.IsType<NotebookCellException>(result.Failure);
        Assert.Equal((2, 2), (failure.CellNumber, failure.Line));
        Assert.Equal("int c = \"text\";", failure.SourceLine);
        Assert.Contains("CS0029", failure.Problem);
        Assert.Equal("CompilationError", Assert.IsType<ErrorElement>(Assert.Single(result.Document.Elements[1].Outputs)).ErrorName);
    }

    [Fact]
    public async Task State_is_shared_between_cells()
    {
        var result = await Run("var total = 20;", "int Twice(int x) => 2 * x;", "Twice(total) + 2");
        Assert.True(result.Succeeded, result.Failure?.Message);
        var value = Assert.IsType<ReturnValueElement>(Assert.Single(result.Document.Elements[2].Outputs));
        Assert.Equal("42", HtmlProbe.PlainValue(value.Data));
    }

    [Fact]
    public async Task Other_nuget_packages_are_restored_by_the_kernel()
    {
        // Humanizer.Core 2.14.1 is a dependency of the kernel itself, so the restore needs no download.
        var result = await Run("#r \"nuget: Humanizer.Core, 2.14.1\"", "Humanizer.StringHumanizeExtensions.Humanize(\"PascalCaseWords\")");
        Assert.True(result.Succeeded, result.Failure?.Message);
        var value = Assert.IsType<ReturnValueElement>(Assert.Single(result.Document.Elements[1].Outputs));
        Assert.Equal("Pascal case words", HtmlProbe.OutputText(value.Data, "text/plain"));
    }

    [Fact]
    public async Task The_kernel_imports_what_the_dotnet_interactive_tool_imports_and_no_more()
    {
        // System.IO is not among the C# kernel's default usings: a notebook that uses Path must say so, or it runs in the
        // runner and fails in VS Code and Jupyter.
        var result = await Run("var p = Path.Combine(\"a\", \"b\");");
        var failure = Assert.IsType<NotebookCellException>(result.Failure);
        Assert.Contains("CS0103", failure.Problem);
        Assert.Equal((1, 1), (failure.CellNumber, failure.Line));
    }

    [Fact]
    public async Task A_package_source_the_kernel_cannot_use_fails_as_in_the_kernel()
    {
        var result = await Run("#i \"nuget: ../packages\"");
        Assert.Contains("Invalid URI", Assert.IsType<NotebookCellException>(result.Failure).Problem);
    }

    [Fact]
    public async Task Toolkit_references_are_mapped_to_the_runner_assemblies()
    {
        var result = await Run(
            "#r \"nuget: VqganClip.Notebooks, 0.1.0\"\n#r \"../src/bin/VqganClip.Models.dll\"\n#!csharp\n" +
            "var grid = new VqganClip.Notebooks.Images.ImageGridView([]);\ngrid.Columns");
        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal("1", HtmlProbe.PlainValue(Assert.IsType<ReturnValueElement>(Assert.Single(result.Document.Elements[0].Outputs)).Data));
    }

    [Fact]
    public async Task Cells_of_other_languages_are_refused()
    {
        var doc = new InteractiveDocument([new InteractiveDocumentElement("printfn \"hi\"", "fsharp")]);
        var result = await new NotebookRunner(Path.GetTempPath()).RunAsync(doc);
        Assert.Contains("'fsharp' cell", Assert.IsType<NotebookCellException>(result.Failure).Problem);
    }

    [Fact]
    public void A_missing_notebook_is_a_one_line_user_error_naming_the_path()
    {
        var (console, text) = TestConsole.Create();
        var missing = new FileInfo(Path.Combine(Path.GetTempPath(), "no-such-notebook.ipynb"));
        var root = new System.CommandLine.RootCommand { NotebookCommand.Create(console) };
        Assert.Equal(1, VqganClip.Cli.CliApp.Run(root, ["notebook", "run", missing.FullName], console));
        Assert.Contains("error: No notebook", text.ToString());
        Assert.Contains("no-such-notebook.ipynb", text.ToString());
    }

    [Fact]
    public async Task The_root_command_runs_a_notebook_end_to_end()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vqc-cli-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var notebook = Path.Combine(dir, "ok.ipynb");
        NotebookFile.Save(new InteractiveDocument([new InteractiveDocumentElement("1 + 1", "csharp")]), notebook);
        var (console, text) = TestConsole.Create();
        var root = new System.CommandLine.RootCommand { VqganClip.Cli.Commands.NotebookCommand.Create(console) };
        var exit = await root.Parse(["notebook", "run", notebook, "--out", Path.Combine(dir, "done.ipynb")]).InvokeAsync();
        Assert.Equal(0, exit);
        Assert.Contains("All 1 code cells ran.", text.ToString());
        var result = Assert.IsType<ReturnValueElement>(Assert.Single(NotebookFile.Load(Path.Combine(dir, "done.ipynb")).Elements[0].Outputs));
        Assert.Equal("2", HtmlProbe.PlainValue(result.Data));
    }
}
