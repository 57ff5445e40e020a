namespace VqganClip.Cli.Notebook;

/// <summary>
/// A notebook cell that could not run: which cell (1-based, counting every cell as the notebook shows them),
/// which line of the cell (1-based, 0 when unknown), that line's text, and why.
/// </summary>
public sealed class NotebookCellException : Exception
{
    public NotebookCellException(int cellNumber, int line, string sourceLine, string problem, string errorName = "Error", Exception? inner = null)
        : base(Describe(cellNumber, line, sourceLine, problem), inner)
    {
        CellNumber = cellNumber;
        Line = line;
        SourceLine = sourceLine;
        Problem = problem;
        ErrorName = errorName;
    }

    public int CellNumber { get; }
    public int Line { get; }
    public string SourceLine { get; }
    public string Problem { get; }

    /// <summary>The exception type name or "CompilationError" (the ipynb error output's ename).</summary>
    public string ErrorName { get; }

    private static string Describe(int cell, int line, string source, string problem) =>
        line > 0
            ? $"Cell {cell}, line {line}: {problem}\n    {line} | {source.TrimEnd()}"
            : $"Cell {cell}: {problem}";
}
