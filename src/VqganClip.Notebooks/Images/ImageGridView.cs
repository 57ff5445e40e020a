using System.Text;
using TorchSharp;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Images;

/// <summary>
/// Images in rows and columns, each with its label; optionally with row and column headers (a sweep:
/// prompts × seeds, generators × prompts). Built from images, a tensor batch (e.g. the cutouts CLIP sees),
/// snapshots over time, or a sweep function.
/// </summary>
public sealed class ImageGridView
{
    /// <summary>Default largest cell width in CSS pixels (bigger images are shown scaled down).</summary>
    public const int DefaultMaxCellWidth = 192;

    public ImageGridView(IEnumerable<NotebookImage> images, int? columns = null, string? title = null,
                     IReadOnlyList<string>? rowHeaders = null, IReadOnlyList<string>? columnHeaders = null, int? cellWidth = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        Images = images.ToList();
        if (columns is <= 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "A grid needs at least one column.");
        Columns = columns ?? columnHeaders?.Count ?? DefaultColumns(Images.Count);
        Title = title;
        RowHeaders = rowHeaders;
        ColumnHeaders = columnHeaders;
        if (columnHeaders is not null && columnHeaders.Count != Columns)
            throw new ArgumentException($"{columnHeaders.Count} column headers for {Columns} columns.", nameof(columnHeaders));
        if (rowHeaders is not null && rowHeaders.Count != Rows)
            throw new ArgumentException($"{rowHeaders.Count} row headers for {Rows} rows.", nameof(rowHeaders));
        CellWidth = cellWidth ?? (Images.Count == 0 ? DefaultMaxCellWidth : Math.Min(Images.Max(i => i.DisplayWidth()), DefaultMaxCellWidth));
    }

    public IReadOnlyList<NotebookImage> Images { get; }
    public int Columns { get; }
    public int Rows => (Images.Count + Columns - 1) / Columns;
    public string? Title { get; }
    public IReadOnlyList<string>? RowHeaders { get; }
    public IReadOnlyList<string>? ColumnHeaders { get; }
    public int CellWidth { get; }

    /// <summary>A batch tensor [N,C,H,W] in [0,1], one cell per image (labels default to "#i").</summary>
    public static ImageGridView FromBatch(torch.Tensor batch, IReadOnlyList<string>? labels = null, int? columns = null, string? title = null)
    {
        var images = TensorPixels.ReadBatch(batch);
        if (labels is not null && labels.Count != images.Count)
            throw new ArgumentException($"{labels.Count} labels for a batch of {images.Count} images.", nameof(labels));
        return new ImageGridView(images.Select((im, i) => NotebookImage.FromPixels(im.Chw, im.Channels, im.Height, im.Width, labels?[i] ?? $"#{i}")),
                             columns, title);
    }

    /// <summary>Snapshots over time, labelled "step N"; <paramref name="every"/> keeps every k-th step (the last one always).</summary>
    public static ImageGridView FromSnapshots(IEnumerable<(int Step, NotebookImage Image)> snapshots, int every = 1, int? columns = null, string? title = "Snapshots")
    {
        if (every <= 0) throw new ArgumentOutOfRangeException(nameof(every), every, "every must be positive.");
        var all = snapshots.OrderBy(s => s.Step).ToList();
        var kept = all.Where((s, i) => s.Step % every == 0 || i == all.Count - 1).ToList();
        return new ImageGridView(kept.Select(s => s.Image.WithLabel($"step {s.Step}")), columns, title);
    }

    /// <summary>A sweep table: one row per <paramref name="rows"/> entry, one column per <paramref name="columns"/> entry.</summary>
    public static ImageGridView Sweep(IReadOnlyList<string> rows, IReadOnlyList<string> columns, Func<int, int, NotebookImage> cell, string? title = null)
    {
        var images = new List<NotebookImage>(rows.Count * columns.Count);
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < columns.Count; c++)
                images.Add(cell(r, c));
        return new ImageGridView(images, columns.Count, title, rows, columns);
    }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder();
        if (Title is not null) sb.Append($"<div class=\"vqc-title\">{HtmlText.Encode(Title)}</div>");
        var template = (RowHeaders is null ? "" : "max-content ") + $"repeat({Columns}, {CellWidth}px)";
        sb.Append($"<div class=\"vqc-grid\" style=\"grid-template-columns:{template}\">");
        if (ColumnHeaders is not null)
        {
            if (RowHeaders is not null) sb.Append("<div></div>");
            foreach (var h in ColumnHeaders) sb.Append($"<div class=\"vqc-head\">{HtmlText.Encode(h)}</div>");
        }
        for (int i = 0; i < Images.Count; i++)
        {
            if (RowHeaders is not null && i % Columns == 0) sb.Append($"<div class=\"vqc-head\">{HtmlText.Encode(RowHeaders[i / Columns])}</div>");
            sb.Append(Images[i].ToHtmlFragment(CellWidth, caption: false));
        }
        sb.Append("</div>");
        if (Images.Count > 0)
            sb.Append($"<div class=\"vqc-caption\">{Images.Count} images{SizeNotes()}{RangeNote()}</div>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{Title ?? "Image grid"}: {Images.Count} images in {Rows}×{Columns}");
        for (int i = 0; i < Images.Count; i++)
        {
            var where = RowHeaders is not null && ColumnHeaders is not null ? $"{RowHeaders[i / Columns]} / {ColumnHeaders[i % Columns]}" : $"[{i / Columns},{i % Columns}]";
            sb.AppendLine($"  {where}: {Images[i]}");
        }
        return sb.ToString().TrimEnd();
    }

    /// <summary>
    /// ", 64×64 px, shown 3×" when every cell shows the same size; otherwise each size with its count
    /// (": 64×64 px, shown 3× (2); 32×32 px, shown 6× (1)"), so no enlarged picture goes without its true size.
    /// </summary>
    private string SizeNotes()
    {
        var sizes = Images.GroupBy(i => i.SizeNote(i.Scale(CellWidth))).ToList();
        return sizes.Count == 1 ? $", {sizes[0].Key}" : ": " + string.Join("; ", sizes.Select(g => $"{g.Key} ({g.Count()})"));
    }

    private string RangeNote()
    {
        var finite = Images.Where(i => !float.IsNaN(i.Min)).ToList();
        if (finite.Count == 0) return "";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $", range [{finite.Min(i => i.Min):0.000}, {finite.Max(i => i.Max):0.000}]");
    }

    private static int DefaultColumns(int count) => Math.Clamp((int)Math.Ceiling(Math.Sqrt(count)), 1, 8);
}
