using System.CommandLine;
using VqganClip.Cli.Notebook;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip notebook run NOTEBOOK [--out executed.ipynb] [--html report.html]</c>: runs a notebook's C# cells
/// in order (see <see cref="NotebookRunner"/>), writes the executed notebook and/or a self-contained HTML report.
/// Exit code 0 when every cell ran, 1 when a cell failed (the outputs are still written, with the error).
/// </summary>
public static class NotebookCommand
{
    public static Command Create()
    {
        var notebook = new Argument<FileInfo>("notebook") { Description = "The notebook to run (.ipynb or .dib)." };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Write the executed notebook (with outputs) here." };
        var html = new Option<FileInfo?>("--html") { Description = "Write a self-contained HTML report of the executed notebook here." };

        var run = new Command("run", "Run a notebook's C# cells in order, as the Polyglot kernel would, and save the outputs.")
        {
            notebook, output, html,
        };
        run.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(notebook), parse.GetValue(output), parse.GetValue(html), cancellationToken));

        return new Command("notebook", "Work with the toolkit's Polyglot notebooks.") { run };
    }

    public static async Task<int> RunAsync(FileInfo notebook, FileInfo? output, FileInfo? html, CancellationToken cancellationToken)
    {
        var log = Console.Out;
        Microsoft.DotNet.Interactive.Documents.InteractiveDocument document;
        try { document = NotebookFile.Load(notebook.FullName); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }

        log.WriteLine($"Running {notebook.Name} ({document.Elements.Count} cells)");
        var baseDirectory = notebook.DirectoryName ?? Environment.CurrentDirectory;
        var result = await new NotebookRunner(baseDirectory, log).RunAsync(document, cancellationToken);

        if (output is not null)
        {
            NotebookFile.Save(result.Document, output.FullName);
            log.WriteLine($"Executed notebook: {output.FullName}");
        }
        if (html is not null)
        {
            Directory.CreateDirectory(html.DirectoryName!);
            var title = Path.GetFileNameWithoutExtension(notebook.Name);
            await File.WriteAllTextAsync(html.FullName, NotebookHtmlReport.Render(result.Document, title, baseDirectory, result.Failure), cancellationToken);
            log.WriteLine($"HTML report: {html.FullName}");
        }

        if (result.Failure is { } failure)
        {
            Console.Error.WriteLine($"error: {failure.Message}");
            return 1;
        }
        log.WriteLine($"All {result.CellsRun} code cells ran.");
        return 0;
    }
}
