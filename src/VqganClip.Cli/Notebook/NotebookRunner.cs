using System.Diagnostics;
using System.Reflection;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using VqganClip.Notebooks.Charts;

namespace VqganClip.Cli.Notebook;

/// <summary>The outcome of running a notebook: the document with its new outputs, and the failure that stopped it, if any.</summary>
public sealed record NotebookRunResult(InteractiveDocument Document, int CellsRun, NotebookCellException? Failure)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// Runs a notebook's cells in order in one .NET Interactive kernel (<see cref="NotebookKernel"/>, the kernel of
/// Polyglot Notebooks and Jupyter's .NET kernel), with the notebook's folder as the working directory, as Jupyter
/// starts it: variables and types carry over, <c>display(x)</c> and the trailing expression become outputs formatted by
/// the toolkit's formatters, console text becomes stream outputs. The first failing cell stops the run; it gets an
/// error output naming the cell and line, and the cells after it lose their old outputs (they did not run).
/// </summary>
public sealed class NotebookRunner
{
    private readonly string _baseDirectory;
    private readonly Action<string>? _log;

    /// <param name="baseDirectory">Where relative paths in cells resolve (the notebook's folder); cells also run with it as the current directory.</param>
    /// <param name="log">Progress lines ("cell 3 ... ok"), or null for none.</param>
    public NotebookRunner(string baseDirectory, Action<string>? log = null)
    {
        _baseDirectory = Path.GetFullPath(baseDirectory);
        _log = log;
    }

    public static bool IsMarkdown(InteractiveDocumentElement cell) =>
        string.Equals(cell.KernelName, "markdown", StringComparison.OrdinalIgnoreCase) || string.Equals(cell.KernelName, "md", StringComparison.OrdinalIgnoreCase);

    public static bool IsCSharp(InteractiveDocumentElement cell) =>
        cell.KernelName is null || cell.KernelName.Equals("csharp", StringComparison.OrdinalIgnoreCase) || cell.KernelName.Equals("c#", StringComparison.OrdinalIgnoreCase);

    public async Task<NotebookRunResult> RunAsync(InteractiveDocument document, CancellationToken cancellationToken = default)
    {
        PlotlyJs.IncludeInNextChart(); // a run is a fresh page: its first chart carries plotly.js, as in a new kernel

        var cwd = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _baseDirectory;
        try
        {
            using var kernel = NotebookKernel.Create();
            await kernel.RunToolkitExtensionAsync(cancellationToken);
            return await RunCellsAsync(kernel, document, cancellationToken);
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
    }

    private async Task<NotebookRunResult> RunCellsAsync(NotebookKernel kernel, InteractiveDocument document, CancellationToken cancellationToken)
    {
        int executionCount = 0;
        NotebookCellException? failure = null;
        for (int index = 0; index < document.Elements.Count; index++)
        {
            var cell = document.Elements[index];
            int cellNumber = index + 1;
            if (IsMarkdown(cell)) continue;
            if (failure is not null)
            {
                cell.Outputs.Clear();
                cell.ExecutionOrder = 0;
                continue;
            }

            var outputs = new CellOutputs();
            var watch = Stopwatch.StartNew();
            executionCount++;
            Exception? cause = null;
            if (!IsCSharp(cell))
            {
                failure = new NotebookCellException(cellNumber, 0, "",
                    $"it is a '{cell.KernelName}' cell; the notebook runner runs C# cells only.", "UnsupportedKernel");
            }
            else
            {
                var cellPath = CellPath(cellNumber);
                SubmissionLines.Prepare(kernel.CSharp, cellPath);
                var command = new SubmitCode(CellDirectives.Rewrite(cell.Contents), kernel.CSharp.Name);
                var result = await kernel.Root.SendAsync(command, cancellationToken);
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var e in result.Events) outputs.Add(e, executionCount);
                if (result.Events.OfType<CommandFailed>().LastOrDefault() is { } failed)
                {
                    cause = failed.Exception is null ? null : Unwrap(failed.Exception);
                    failure = Failure(failed, cause, result.Events.OfType<DiagnosticsProduced>(), cell.Contents, cellNumber, cellPath);
                }
            }

            if (failure is not null) outputs.Failed(failure, cause);
            cell.Outputs.Clear();
            cell.Outputs.AddRange(outputs.Complete());
            cell.ExecutionOrder = executionCount;
            _log?.Invoke(failure is null
                ? $"  cell {cellNumber,3}  ok      {watch.Elapsed.TotalSeconds,7:0.00}s"
                : $"  cell {cellNumber,3}  FAILED  {watch.Elapsed.TotalSeconds,7:0.00}s");
        }
        return new NotebookRunResult(document, executionCount, failure);
    }

    /// <summary>The file name a cell compiles under (its stack-trace frames name it, which gives the failing line).</summary>
    private string CellPath(int cellNumber) => Path.Combine(_baseDirectory, $"cell-{cellNumber}.csx");

    /// <summary>
    /// A compile error names the first error diagnostic's line and up to three diagnostics; a runtime error names the
    /// exception and the cell line it was thrown from; anything else (a directive the kernel refused) the kernel's message.
    /// </summary>
    private static NotebookCellException Failure(CommandFailed failed, Exception? cause, IEnumerable<DiagnosticsProduced> diagnostics,
        string source, int cellNumber, string cellPath)
    {
        var errors = diagnostics.SelectMany(d => d.Diagnostics).Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            int line = errors[0].LinePositionSpan.Start.Line + 1;
            var problem = string.Join("; ", errors.Take(3).Select(d => $"{d.Code}: {d.Message}"));
            return new NotebookCellException(cellNumber, line, SourceLine(source, line), problem, "CompilationError");
        }
        if (cause is not null && !IsKernelException(cause))
        {
            int line = SubmissionLines.Of(cause, cellPath);
            return new NotebookCellException(cellNumber, line, SourceLine(source, line), $"{cause.GetType().Name}: {cause.Message}", cause.GetType().Name, cause);
        }
        return new NotebookCellException(cellNumber, 0, "", failed.Message.Trim(), "Error", cause);
    }

    /// <summary>Exceptions the kernel raises about the submission itself (not thrown by the cell's code).</summary>
    private static bool IsKernelException(Exception e) =>
        e.GetType().Namespace?.StartsWith("Microsoft.DotNet.Interactive", StringComparison.Ordinal) == true;

    private static Exception Unwrap(Exception e) => e switch
    {
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        _ => e,
    };

    private static string SourceLine(string source, int line)
    {
        if (line <= 0) return "";
        var lines = source.Replace("\r\n", "\n").Split('\n');
        return line <= lines.Length ? lines[line - 1] : "";
    }
}
