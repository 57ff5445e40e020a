using TorchSharp;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>Reconstruction quality of a VQGAN on held-out clipart scenes.</summary>
/// <param name="MeanPsnr">Mean over images of 10·log10(1/MSE), pixels in [0, 1] (decoder output clamped).</param>
/// <param name="PooledPsnr">10·log10(1/mean MSE) over all pixels of all images (never above <paramref name="MeanPsnr"/>'s typical value; the stricter figure).</param>
/// <param name="CodesUsed">Distinct codebook entries chosen over the set.</param>
/// <param name="Perplexity">exp(entropy) of the code histogram.</param>
public sealed record ReconstructionResult(int Images, double MeanPsnr, double PooledPsnr, int CodesUsed, int CodebookSize, double Perplexity)
{
    public IReadOnlyDictionary<string, double> ToMetrics() => new Dictionary<string, double>
    {
        ["psnr"] = MeanPsnr,
        ["psnr_pooled"] = PooledPsnr,
        ["codes_used"] = CodesUsed,
        ["codebook_usage"] = (double)CodesUsed / CodebookSize,
        ["perplexity"] = Perplexity,
    };
}

public static class ReconstructionEval
{
    /// <summary>Encodes, quantizes and decodes the first <paramref name="count"/> held-out scenes.</summary>
    public static ReconstructionResult Run(VqganModel model, int count = 1000, int batchSize = 50, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var (specs, _) = ClipartBatches.HeldOut(count);
        int n = model.Config.NEmbed;
        var psnrs = new List<double>(count);
        double sumMse = 0;
        var histogram = new long[n];
        using var _ = no_grad();
        for (int start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = specs.Skip(start).Take(batchSize).ToArray();
            var x01 = ClipartBatches.Render(chunk, threads).to(model.Device);
            var (zq, indices) = model.EncodeQuantized(x01 * 2 - 1);
            var recon01 = ((model.Decode(zq).clamp(-1, 1) + 1) / 2);
            var mse = (recon01 - x01).pow(2).mean([1, 2, 3]).cpu();
            foreach (var m in mse.data<float>().ToArray())
            {
                psnrs.Add(10 * Math.Log10(1.0 / Math.Max(m, 1e-12)));
                sumMse += m;
            }
            var counts = indices.reshape(-1).bincount(null, minlength: n).cpu().data<long>().ToArray();
            for (int i = 0; i < n; i++) histogram[i] += counts[i];
        }
        long total = histogram.Sum();
        double entropy = histogram.Where(c => c > 0).Sum(c => { double p = (double)c / total; return -p * Math.Log(p); });
        return new ReconstructionResult(count, psnrs.Average(), 10 * Math.Log10(1.0 / Math.Max(sumMse / count, 1e-12)),
            histogram.Count(c => c > 0), n, Math.Exp(entropy));
    }
}
