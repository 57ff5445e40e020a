using System.Text;
using TorchSharp;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Charts;

/// <summary>
/// How a VQGAN latent uses its codebook: a histogram of code indices (count per code, codes by index),
/// a heat map of the index grid (which code sits at each latent position), and summary figures:
/// codes used, the most frequent code, and the perplexity exp(H) of the index distribution
/// (the number of equally-used codes that would give the same entropy).
/// </summary>
public sealed class CodebookUsage
{
    public CodebookUsage(int[,] indices, int codebookSize, string title = "Codebook usage")
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (codebookSize <= 0) throw new ArgumentOutOfRangeException(nameof(codebookSize), codebookSize, "The codebook size must be positive.");
        Indices = indices;
        CodebookSize = codebookSize;
        Title = title;
        Counts = new long[codebookSize];
        foreach (var i in indices)
        {
            if (i < 0 || i >= codebookSize)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Code index {i} is outside the codebook [0, {codebookSize}).");
            Counts[i]++;
        }
    }

    /// <summary>
    /// From the indices a VQGAN quantizer returns: [h,w], [1,h,w] or a flat [h*w] with <paramref name="latentShape"/> = (h, w).
    /// </summary>
    public static CodebookUsage FromIndices(torch.Tensor indices, int codebookSize, (int Height, int Width)? latentShape = null, string title = "Codebook usage")
    {
        ArgumentNullException.ThrowIfNull(indices);
        var shape = indices.shape;
        (int h, int w) = shape.Length switch
        {
            2 => ((int)shape[0], (int)shape[1]),
            3 when shape[0] == 1 => ((int)shape[1], (int)shape[2]),
            1 when latentShape is { } s && (long)s.Height * s.Width == shape[0] => (s.Height, s.Width),
            1 => throw new ArgumentException($"Flat indices [{shape[0]}] need latentShape (h, w) with h*w = {shape[0]}."),
            _ => throw new ArgumentException($"Codebook indices are [h,w], [1,h,w] or [h*w]; got [{string.Join(",", shape)}]."),
        };
        using var scope = torch.NewDisposeScope();
        var flat = indices.detach().cpu().to(torch.int64).contiguous().reshape(-1).data<long>().ToArray();
        var grid = new int[h, w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                grid[y, x] = checked((int)flat[y * w + x]);
        return new CodebookUsage(grid, codebookSize, title);
    }

    /// <summary>Code index at each latent position [row, column].</summary>
    public int[,] Indices { get; }
    public int CodebookSize { get; }
    public string Title { get; }

    /// <summary>How many latent positions use each code.</summary>
    public long[] Counts { get; }

    public int Positions => Indices.Length;
    public int CodesUsed => Counts.Count(c => c > 0);

    public (int Code, long Count) MostUsed
    {
        get
        {
            int best = 0;
            for (int i = 1; i < Counts.Length; i++) if (Counts[i] > Counts[best]) best = i;
            return (best, Counts[best]);
        }
    }

    /// <summary>exp of the entropy (nats) of the index distribution: 1 when one code fills the latent, CodesUsed when use is even.</summary>
    public double Perplexity
    {
        get
        {
            double h = 0;
            foreach (var c in Counts)
            {
                if (c == 0) continue;
                double p = (double)c / Positions;
                h -= p * Math.Log(p);
            }
            return Math.Exp(h);
        }
    }

    public PlotlyFigure HistogramFigure(int height = 300) =>
        new PlotlyFigure("Positions per code", height)
            .Add(PlotlyFigure.Columns(Enumerable.Range(0, CodebookSize), Counts, "positions"))
            .AxisTitles("code index", "positions");

    public PlotlyFigure HeatmapFigure(int height = 300)
    {
        var figure = new PlotlyFigure("Code index per latent position", height).Add(PlotlyFigure.Heatmap(Indices, "code index"));
        // Row 0 is the top of the image, as in the picture (Plotly draws row 0 at the bottom by default).
        figure.Axis("yaxis")["autorange"] = "reversed";
        figure.Axis("yaxis")["scaleanchor"] = "x";
        return figure;
    }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder();
        sb.Append($"<div class=\"vqc-title\">{HtmlText.Encode(Title)}</div>");
        sb.Append($"<div class=\"vqc-caption\">{HtmlText.Encode(Summary())}</div>");
        sb.Append("<div class=\"vqc-row\"><div style=\"flex:1 1 480px;min-width:300px\">");
        sb.Append(ChartHtml.Render(HistogramFigure()));
        sb.Append("</div><div style=\"flex:1 1 320px;min-width:280px\">");
        sb.Append(ChartHtml.Render(HeatmapFigure()));
        sb.Append("</div></div>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public string Summary()
    {
        var (code, count) = MostUsed;
        return $"{Indices.GetLength(0)}×{Indices.GetLength(1)} latent, {CodesUsed} of {CodebookSize} codes used, " +
               $"most used #{code} ({count} positions), perplexity {HtmlText.Number(Perplexity)}";
    }

    public override string ToString() => $"{Title}: {Summary()}";
}
