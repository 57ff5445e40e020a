using System.Text;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Formatting;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// The outputs of the cell being run, in the order they happened, written the way the kernel writes them:
/// each display is a display_data output (updates replace it in place), console text becomes stdout/stderr
/// stream outputs, the trailing expression an execute_result.
/// </summary>
internal sealed class CellOutputs
{
    private readonly object _gate = new();
    private readonly List<InteractiveDocumentOutputElement> _outputs = [];
    private readonly Dictionary<string, int> _displayIndex = new(StringComparer.Ordinal);
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public CellOutputs()
    {
        Out = new StreamCapture(this, isError: false);
        Error = new StreamCapture(this, isError: true);
    }

    public TextWriter Out { get; }
    public TextWriter Error { get; }

    /// <summary>A display or an update of one (from <c>display(x)</c>, <c>handle.Update(y)</c> or <c>x.Display()</c>).</summary>
    public void Displayed(DisplayedValue value)
    {
        lock (_gate)
        {
            var element = new DisplayElement(ToData(value.FormattedValues));
            if (value.IsUpdated && _displayIndex.TryGetValue(value.DisplayId, out var index))
            {
                _outputs[index] = element;
                return;
            }
            FlushStreams();
            _displayIndex[value.DisplayId] = _outputs.Count;
            _outputs.Add(element);
        }
    }

    public void ReturnValue(object value, int executionOrder)
    {
        lock (_gate)
        {
            FlushStreams();
            var result = new ReturnValueElement { ExecutionOrder = executionOrder };
            foreach (var (k, v) in ToData(FormattedValue.CreateManyFromObject(value, ScriptGlobals.DefaultMimeTypes)))
                result.Data[k] = v;
            _outputs.Add(result);
        }
    }

    public void Failed(NotebookCellException failure, Exception? cause)
    {
        lock (_gate)
        {
            FlushStreams();
            var trace = new List<string> { failure.Message };
            if (cause?.StackTrace is { } st) trace.AddRange(st.Split('\n').Select(l => l.TrimEnd('\r')));
            _outputs.Add(new ErrorElement(errorValue: failure.Problem, errorName: failure.ErrorName, stackTrace: trace.ToArray()));
        }
    }

    public List<InteractiveDocumentOutputElement> Complete()
    {
        lock (_gate)
        {
            FlushStreams();
            return [.. _outputs];
        }
    }

    private void Write(string? text, bool isError)
    {
        if (string.IsNullOrEmpty(text)) return;
        lock (_gate) (isError ? _stderr : _stdout).Append(text);
    }

    private void FlushStreams()
    {
        if (_stdout.Length > 0) { _outputs.Add(new TextElement(_stdout.ToString(), "stdout")); _stdout.Clear(); }
        if (_stderr.Length > 0) { _outputs.Add(new TextElement(_stderr.ToString(), "stderr")); _stderr.Clear(); }
    }

    private static Dictionary<string, object> ToData(IEnumerable<FormattedValue> values) =>
        values.Where(v => !v.SuppressDisplay).GroupBy(v => v.MimeType).ToDictionary(g => g.Key, g => (object)g.Last().Value);

    private sealed class StreamCapture(CellOutputs owner, bool isError) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => owner.Write(value.ToString(), isError);
        public override void Write(string? value) => owner.Write(value, isError);
        public override void Write(char[] buffer, int index, int count) => owner.Write(new string(buffer, index, count), isError);
    }
}
