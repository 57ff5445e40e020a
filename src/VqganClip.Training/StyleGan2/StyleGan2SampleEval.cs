using TorchSharp;
using VqganClip.Clipart.Judge;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;

namespace VqganClip.Training.StyleGan2;

/// <summary>
/// How often a StyleGAN2's samples are valid clipart scenes (<see cref="SceneReader.IsValidScene"/>): <c>count</c>
/// samples of z ~ N(0, 1) drawn from a seeded generator, truncation ψ, the model's fixed noise, and the same measure
/// on <c>count</c> held-out rendered scenes as the baseline that shows the measure works.
/// </summary>
public static class StyleGan2SampleEval
{
    public sealed record Result(int Samples, double ValidRate, double MeanObjects, double OneObject, double TwoObjects, IReadOnlyList<SceneReader.Reading> Readings, bool[] Valid);

    public static Result Run(StyleGan2Model model, int count, SceneJudge judge, int seed = 0, double truncation = 1, int batch = 16)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(judge);
        var images = new List<float[]>(count);
        using var rng = new torch.Generator((ulong)seed);
        using (no_grad())
        {
            Tensor? mean = truncation < 1 ? model.LatentAvg?.unsqueeze(0) ?? model.MeanLatent(4096, rng) : null;
            for (int start = 0; start < count; start += batch)
            {
                using var scope = NewDisposeScope();
                int n = Math.Min(batch, count - start);
                var z = randn(new long[] { n, model.StyleDim }, generator: rng);
                var (image, _) = model.Forward([z], StyleGan2Noise.Fixed, truncation: truncation, truncationLatent: mean);
                images.AddRange(ToPlanar(image));
            }
        }
        return Grade(images, judge);
    }

    /// <summary>The same measure on the first <paramref name="count"/> held-out rendered scenes.</summary>
    public static Result RealScenes(int count, SceneJudge judge, int threads = 0)
    {
        var (specs, _) = ClipartBatches.HeldOut(count);
        using var scope = NewDisposeScope();
        var images = ClipartBatches.Render(specs, threads) * 2 - 1;
        return Grade(ToPlanar(images), judge);
    }

    /// <summary>[B, 3, 64, 64] in [−1, 1] → planar [3·64·64] floats in [0, 1] per image.</summary>
    public static List<float[]> ToPlanar(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = ((images.detach().cpu().clamp(-1, 1) + 1) / 2).contiguous();
        var flat = x.reshape(x.shape[0], -1);
        return Enumerable.Range(0, (int)x.shape[0]).Select(i => flat[i].data<float>().ToArray()).ToList();
    }

    public static Result Grade(IReadOnlyList<float[]> images, SceneJudge judge)
    {
        var readings = new List<SceneReader.Reading>(images.Count);
        var valid = new bool[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var (ok, reading) = SceneReader.IsValidScene(images[i], judge);
            valid[i] = ok;
            readings.Add(reading);
        }
        int n = Math.Max(1, images.Count);
        return new Result(images.Count, valid.Count(v => v) / (double)n, readings.Average(r => (double)r.Objects.Count),
            readings.Count(r => r.Objects.Count == 1) / (double)n, readings.Count(r => r.Objects.Count == 2) / (double)n, readings, valid);
    }
}
