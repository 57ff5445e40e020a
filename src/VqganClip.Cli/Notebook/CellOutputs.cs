using System.Text;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// The outputs of one cell, built from the kernel's events in the order they happened, the way Polyglot Notebooks
/// and Jupyter keep them: each display is a display_data output (its updates replace it in place), console text
/// becomes stdout/stderr stream outputs (consecutive writes merged), the trailing expression an execute_result.
/// </summary>
internal sealed class CellOutputs
{
    private readonly List<InteractiveDocumentOutputElement> _outputs = [];
    private readonly Dictionary<string, int> _displayIndex = new(StringComparer.Ordinal);
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public void Add(KernelEvent e, int executionOrder)
    {
        switch (e)
        {
            case DisplayedValueUpdated updated when updated.ValueId is { } id && _displayIndex.TryGetValue(id, out var index):
                _outputs[index] = new DisplayElement(ToData(updated.FormattedValues));
                break;
            case DisplayedValueUpdated:
                // An update of an output this cell did not produce: Jupyter drops it (it matches updates by display
                // id), and so does the runner, so both save the same notebook. The kernel's own display(x).Update(y)
                // lands here (its handle's id is not its output's; see VqganClip.Notebooks.LiveView).
                break;
            case DisplayedValueProduced display:
                Flush();
                if (display.ValueId is { } valueId) _displayIndex[valueId] = _outputs.Count;
                _outputs.Add(new DisplayElement(ToData(display.FormattedValues)));
                break;
            case ReturnValueProduced value:
                Flush();
                var result = new ReturnValueElement { ExecutionOrder = executionOrder };
                foreach (var (mime, text) in ToData(value.FormattedValues)) result.Data[mime] = text;
                _outputs.Add(result);
                break;
            case StandardOutputValueProduced stdout:
                _stdout.Append(Text(stdout.FormattedValues));
                break;
            case StandardErrorValueProduced stderr:
                _stderr.Append(Text(stderr.FormattedValues));
                break;
        }
    }

    public void Failed(NotebookCellException failure, Exception? cause)
    {
        Flush();
        var trace = new List<string> { failure.Message };
        if (cause?.StackTrace is { } st) trace.AddRange(st.Split('\n').Select(l => l.TrimEnd('\r')));
        _outputs.Add(new ErrorElement(errorValue: failure.Problem, errorName: failure.ErrorName, stackTrace: trace.ToArray()));
    }

    public List<InteractiveDocumentOutputElement> Complete()
    {
        Flush();
        return [.. _outputs];
    }

    private void Flush()
    {
        if (_stdout.Length > 0) { _outputs.Add(new TextElement(_stdout.ToString(), "stdout")); _stdout.Clear(); }
        if (_stderr.Length > 0) { _outputs.Add(new TextElement(_stderr.ToString(), "stderr")); _stderr.Clear(); }
    }

    private static string Text(IEnumerable<FormattedValue> values) =>
        values.FirstOrDefault(v => v.MimeType == PlainTextFormatter.MimeType)?.Value ?? values.FirstOrDefault()?.Value ?? "";

    private static Dictionary<string, object> ToData(IEnumerable<FormattedValue> values) =>
        values.Where(v => !v.SuppressDisplay).GroupBy(v => v.MimeType).ToDictionary(g => g.Key, g => (object)g.Last().Value);
}
