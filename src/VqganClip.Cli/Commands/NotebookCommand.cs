using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli.Notebook;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip notebook run NOTEBOOK [--out executed.ipynb] [--html report.html] [--threads N]</c>: runs a notebook's C# cells
/// in order (see <see cref="NotebookRunner"/>), writes the executed notebook and/or a self-contained HTML report.
/// Exit code 0 when every cell ran; 1 when a cell failed (the outputs are still written, with the error) or the
/// notebook could not be read.
/// </summary>
public static class NotebookCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var notebook = new Argument<FileInfo>("notebook") { Description = "The notebook to run (.ipynb or .dib)." };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Write the executed notebook (with outputs) here (.ipynb or .dib)." };
        var html = new Option<FileInfo?>("--html") { Description = "Write a self-contained HTML report of the executed notebook here." };
        var threads = ThreadsOption.Create();

        var run = new Command("run", "Run a notebook's C# cells in order in the .NET Interactive kernel (as Polyglot Notebooks and Jupyter do) and save the outputs.")
        {
            notebook, output, html, threads,
        };
        run.SetAction((parse, cancellationToken) =>
        {
            ThreadsOption.Apply(parse.GetValue(threads));
            return RunAsync(parse.GetRequiredValue(notebook), parse.GetValue(output), parse.GetValue(html), console ?? AnsiConsole.Console, cancellationToken);
        });

        return new Command("notebook", "Run the toolkit's Polyglot notebooks outside the editor.") { run };
    }

    /// <summary>The command body (see the class summary for the exit codes).</summary>
    public static async Task<int> RunAsync(FileInfo notebook, FileInfo? output, FileInfo? html, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var document = NotebookFile.Load(notebook.FullName);   // a missing or unreadable notebook: CliApp's one error path

        console.WriteLine($"Running {notebook.Name} ({document.Elements.Count} cells)");
        var baseDirectory = notebook.DirectoryName ?? Environment.CurrentDirectory;
        var result = await new NotebookRunner(baseDirectory, line => console.WriteLine(line)).RunAsync(document, cancellationToken);

        if (output is not null)
        {
            NotebookFile.Save(result.Document, output.FullName);
            console.WriteLine($"Executed notebook: {output.FullName}");
        }
        if (html is not null)
        {
            Directory.CreateDirectory(html.DirectoryName!);
            var title = Path.GetFileNameWithoutExtension(notebook.Name);
            await File.WriteAllTextAsync(html.FullName, NotebookHtmlReport.Render(result.Document, title, baseDirectory, result.Failure), cancellationToken);
            console.WriteLine($"HTML report: {html.FullName}");
        }

        if (result.Failure is { } failure)
        {
            // Multi-line on purpose: the failing cell's source line goes under the message.
            console.MarkupLine($"[red]error:[/] {Markup.Escape(failure.Message)}");
            return UserErrors.UserError;
        }
        console.WriteLine($"All {result.CellsRun} code cells ran.");
        return UserErrors.Ok;
    }
}
