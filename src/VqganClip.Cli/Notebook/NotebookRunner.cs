using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Formatting;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Charts;

namespace VqganClip.Cli.Notebook;

/// <summary>The outcome of running a notebook: the document with its new outputs, and the failure that stopped it, if any.</summary>
public sealed record NotebookRunResult(InteractiveDocument Document, int CellsRun, NotebookCellException? Failure)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// Runs a notebook's C# cells in order in one shared Roslyn script state (CSharpScript.RunAsync, then
/// ContinueWithAsync per cell), the way the .NET Interactive C# kernel does: variables and types carry over,
/// <c>display(x)</c> and the trailing expression become outputs formatted by the toolkit's formatters, console
/// text becomes stream outputs. The first failing cell stops the run; it gets an error output, and the cells
/// after it lose their old outputs (they did not run).
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
        NotebookFormatters.Register();
        PlotlyJs.IncludeInNextChart(); // a run is a fresh page: its first chart carries plotly.js, as in a new kernel

        var options = ScriptEnvironment.Options(_baseDirectory);
        CellOutputs? current = null;
        var globals = new ScriptGlobals(v => current?.Displayed(v));
        using var subscription = Formatter.SubscribeToDisplayedValues(v => current?.Displayed(v));

        ScriptState<object>? state = null;
        int executionCount = 0;
        NotebookCellException? failure = null;
        var (stdout, stderr, cwd) = (Console.Out, Console.Error, Environment.CurrentDirectory);

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
            current = outputs;
            var watch = Stopwatch.StartNew();
            executionCount++;
            Exception? cause = null;
            try
            {
                if (!IsCSharp(cell))
                    throw new NotebookCellException(cellNumber, 0, "",
                        $"it is a '{cell.KernelName}' cell; the notebook runner runs C# cells only.", "UnsupportedKernel");

                var code = CellDirectives.Rewrite(cell.Contents, cellNumber);
                var cellOptions = options.WithFilePath(CellPath(cellNumber));
                Console.SetOut(outputs.Out);
                Console.SetError(outputs.Error);
                Environment.CurrentDirectory = _baseDirectory;
                try
                {
                    // Code goes in as a UTF-8 stream: emitting debug information (for the failing line of a
                    // runtime error) needs source text that knows its encoding, which a plain string lacks.
                    using var source = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(code));
                    state = state is null
                        ? await CSharpScript.Create(source, cellOptions, typeof(ScriptGlobals)).RunAsync(globals, cancellationToken)
                        : await state.Script.ContinueWith(source, cellOptions).RunFromAsync(state, cancellationToken: cancellationToken);
                }
                finally
                {
                    Console.SetOut(stdout);
                    Console.SetError(stderr);
                    Environment.CurrentDirectory = cwd;
                }

                if (state.ReturnValue is { } value && EndsWithExpression(code))
                    outputs.ReturnValue(value, executionCount);
            }
            catch (NotebookCellException e) { failure = e; }
            catch (CompilationErrorException e) { failure = CompilationFailure(e, cell.Contents, cellNumber); }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                cause = Unwrap(e);
                failure = RuntimeFailure(cause, cell.Contents, cellNumber);
            }
            finally
            {
                current = null;
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

    /// <summary>The virtual file a cell compiles as (its stack-trace frames name it, which gives the failing line).</summary>
    private string CellPath(int cellNumber) => Path.Combine(_baseDirectory, $"cell-{cellNumber}.csx");

    /// <summary>Whether the cell ends with an expression without a semicolon (its value is the cell's result, as in the kernel).</summary>
    private static bool EndsWithExpression(string code)
    {
        var tree = CSharpSyntaxTree.ParseText(code, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script));
        var last = tree.GetCompilationUnitRoot().Members.LastOrDefault();
        return last is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } };
    }

    private static NotebookCellException CompilationFailure(CompilationErrorException e, string source, int cellNumber)
    {
        var first = e.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error) ?? e.Diagnostics.FirstOrDefault();
        int line = first is null || !first.Location.IsInSource ? 0 : first.Location.GetLineSpan().StartLinePosition.Line + 1;
        var problem = string.Join("; ", e.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(3)
            .Select(d => $"{d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}"));
        return new NotebookCellException(cellNumber, line, SourceLine(source, line), problem, "CompilationError", e);
    }

    private NotebookCellException RuntimeFailure(Exception e, string source, int cellNumber)
    {
        var cellFile = CellPath(cellNumber);
        int line = new StackTrace(e, true).GetFrames()
            .Where(f => string.Equals(f.GetFileName(), cellFile, StringComparison.Ordinal) && f.GetFileLineNumber() > 0)
            .Select(f => f.GetFileLineNumber())
            .FirstOrDefault();
        return new NotebookCellException(cellNumber, line, SourceLine(source, line), $"{e.GetType().Name}: {e.Message}", e.GetType().Name, e);
    }

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
