using System.Text;
using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Views;

/// <summary>One tensor of a checkpoint: name, dtype, shape and size in bytes.</summary>
public sealed record CheckpointTensor(string Name, string DType, IReadOnlyList<long> Shape, long Bytes)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// A checkpoint's tensors as a table (name, dtype, shape, elements, bytes), a summary per top-level name
/// prefix, the format, the file and its metadata. Long tables fold into a &lt;details&gt; element.
/// </summary>
public sealed class CheckpointTable
{
    /// <summary>Above this many tensors the full table starts folded.</summary>
    public const int FoldAbove = 40;

    public CheckpointTable(IEnumerable<CheckpointTensor> tensors, string format, string? sourcePath = null,
                           IReadOnlyDictionary<string, string>? metadata = null)
    {
        Tensors = tensors.ToList();
        Format = format;
        SourcePath = sourcePath;
        Metadata = metadata ?? new Dictionary<string, string>();
    }

    public static CheckpointTable FromStateDict(StateDict stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var rows = stateDict.Entries.Select(e =>
            new CheckpointTensor(e.Key, DTypeName(e.Value.dtype), e.Value.shape, e.Value.numel() * e.Value.ElementSize)).ToList();
        return new CheckpointTable(rows, stateDict.Format, stateDict.SourcePath, new Dictionary<string, string>(stateDict.Metadata));
    }

    /// <summary>From <c>Checkpoint.Inspect(path)</c>: the table without loading any tensor data.</summary>
    public static CheckpointTable FromInfo(CheckpointInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new CheckpointTable(info.Tensors.Select(t => new CheckpointTensor(t.Name, t.DType.TorchName, t.Shape, t.ByteCount)),
                                   info.Format, info.Path, info.Metadata);
    }

    public IReadOnlyList<CheckpointTensor> Tensors { get; }
    public string Format { get; }
    public string? SourcePath { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public long TotalElements => Tensors.Sum(t => t.Elements);
    public long TotalBytes => Tensors.Sum(t => t.Bytes);

    /// <summary>Tensors grouped by the first part of their name ("visual", "transformer", "encoder", ...).</summary>
    public IReadOnlyList<(string Prefix, int Tensors, long Elements, long Bytes)> ByPrefix() =>
        Tensors.GroupBy(t => t.Name.Split('.')[0])
               .Select(g => (g.Key, g.Count(), g.Sum(t => t.Elements), g.Sum(t => t.Bytes)))
               .ToList();

    public string Headline() =>
        $"{Tensors.Count} tensors, {HtmlText.Count(TotalElements)} elements, {HtmlText.Bytes(TotalBytes)} ({Format})";

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder();
        sb.Append($"<div class=\"vqc-title\">{HtmlText.Encode(SourcePath is null ? "Checkpoint" : Path.GetFileName(SourcePath))}</div>");
        sb.Append($"<div class=\"vqc-caption\">{HtmlText.Encode(Headline())}{(SourcePath is null ? "" : " · " + HtmlText.Encode(SourcePath))}</div>");
        sb.Append("<div class=\"vqc-row\"><div>");
        sb.Append(HtmlTable.Render(["prefix", "tensors", "elements", "size"],
            ByPrefix().Select(p => (IReadOnlyList<string>)[p.Prefix, p.Tensors.ToString(), HtmlText.Count(p.Elements), HtmlText.Bytes(p.Bytes)]),
            new HashSet<int> { 1, 2, 3 }));
        sb.Append("</div>");
        if (Metadata.Count > 0)
            sb.Append("<div><div class=\"vqc-title\">Metadata</div>")
              .Append(HtmlTable.KeyValues(Metadata.Select(kv => (kv.Key, Shorten(kv.Value))))).Append("</div>");
        sb.Append("</div>");
        var table = HtmlTable.Render(["name", "dtype", "shape", "elements", "size"],
            Tensors.Select(t => (IReadOnlyList<string>)[t.Name, t.DType, t.ShapeText, HtmlText.Count(t.Elements), HtmlText.Bytes(t.Bytes)]),
            new HashSet<int> { 3, 4 });
        sb.Append(Tensors.Count > FoldAbove
            ? $"<details><summary>All {Tensors.Count} tensors</summary>{table}</details>"
            : table);
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{SourcePath ?? "Checkpoint"}: {Headline()}");
        foreach (var kv in Metadata) sb.AppendLine($"  {kv.Key} = {Shorten(kv.Value)}");
        sb.AppendLine(HtmlTable.PlainText(["name", "dtype", "shape", "elements"],
            Tensors.Select(t => (IReadOnlyList<string>)[t.Name, t.DType, t.ShapeText, t.Elements.ToString()])));
        return sb.ToString().TrimEnd();
    }

    /// <summary>PyTorch's name of a dtype ("float32", "bfloat16", "int64", ...).</summary>
    public static string DTypeName(torch.ScalarType type) => TensorDType.FromScalarType(type)?.TorchName ?? type.ToString().ToLowerInvariant();

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200] + $"… ({s.Length} chars)";
}
