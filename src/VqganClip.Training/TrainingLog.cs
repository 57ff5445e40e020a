using System.Globalization;
using System.Text.Json;

namespace VqganClip.Training;

/// <summary>
/// Appends one JSON object per line (<c>log.jsonl</c> in a run folder): training steps, evaluations, restarts.
/// Flushed after every record so a killed run keeps what it logged.
/// </summary>
public sealed class TrainingLog : IDisposable
{
    private readonly StreamWriter _writer;

    public TrainingLog(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>Writes <c>{"kind": kind, "time": ISO-8601, ...values}</c>.</summary>
    public void Write(string kind, IReadOnlyDictionary<string, object?> values)
    {
        var record = new Dictionary<string, object?> { ["kind"] = kind, ["time"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture) };
        foreach (var (k, v) in values) record[k] = v is double d && !double.IsFinite(d) ? d.ToString(CultureInfo.InvariantCulture) : v;
        _writer.WriteLine(JsonSerializer.Serialize(record));
    }

    public void Dispose() => _writer.Dispose();
}
