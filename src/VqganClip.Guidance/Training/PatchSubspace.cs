using TorchSharp;
using VqganClip.Models.Clip;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Training;

/// <summary>
/// Restricts a ViT CLIP's patch embedding (<c>visual.conv1</c>) to the patch directions that clipart scenes occupy.
/// Flat-coloured scenes vary in few of the 3·p·p directions of a patch. Training never moves a filter's weight along
/// the others, so those keep their random initialisation. The model never needed them, but guidance can push the
/// picture along them freely.
/// <para>The procedure: the covariance of the normalised patches of rendered training views, its eigenvectors, and the
/// smallest set of leading ones that keeps <c>keepVariance</c> of the variance (the projection P). conv1's weight W
/// becomes W·P. The constant W·(I−P)·mean that the data's mean patch loses is added to every patch row of
/// <c>positional_embedding</c>, which the conv output is summed with: for a patch x of the data,
/// W·P·x + W·(I−P)·mean = W·x − W·(I−P)·(x − mean), so only the discarded variance changes.</para>
/// Architecture and key names stay the reference's (conv1 keeps no bias), so the result loads like any CLIP.
/// </summary>
public static class PatchSubspace
{
    /// <summary>What <see cref="Project"/> kept.</summary>
    public sealed record Result(int Directions, int Kept, double VarianceKept, long Patches);

    public static Result Project(ClipModel model, double keepVariance = 0.999, int scenes = 2048, int seed = 1, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.visual is not VisionTransformer vit)
            throw new ArgumentException("Patch projection needs a ViT CLIP (a ResNet image tower has no patch embedding).", nameof(model));
        if (!(keepVariance > 0 && keepVariance <= 1))
            throw new ArgumentOutOfRangeException(nameof(keepVariance), keepVariance, "The variance to keep must be in (0, 1].");
        ArgumentOutOfRangeException.ThrowIfLessThan(scenes, 16);

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var weight = vit.conv1.weight!;                          // [width, 3, p, p]
        long width = weight.shape[0], p = weight.shape[2], d = 3 * p * p;
        int size = model.ImageSize;

        // Training-like views (crops as the trainer makes them, no pixel noise: noise would fill every direction).
        var augment = new ClipAugment { NoiseStd = 0 };
        var sum = zeros(d, dtype: ScalarType.Float64);
        var outer = zeros(d, d, dtype: ScalarType.Float64);
        long count = 0;
        for (int step = 0; step * 128 < scenes; step++)
        {
            using var batchScope = NewDisposeScope();
            int n = Math.Min(128, scenes - step * 128);
            var (specs, _) = ClipartBatches.Scenes(seed, step, n);
            Tensor views;
            using (var generator = new Generator((ulong)ClipartBatches.StepSeed(seed ^ 0x5AB, step)))
                views = augment.Apply(ClipartBatches.Render(specs, threads), generator);
            var pixels = ClipModel.Normalize01(ClipPreprocess.ResizeAndCenterCrop(views, size));
            // [n, 3, g·p, g·p] -> [n·g·g, 3·p·p] in conv1's (channel, row, column) weight order
            var patches = pixels.unfold(2, p, p).unfold(3, p, p).permute(0, 2, 3, 1, 4, 5).reshape(-1, d).to(ScalarType.Float64);
            sum.add_(patches.sum(0));
            outer.add_(matmul(patches.t(), patches));
            count += patches.shape[0];
        }
        var mean = sum / count;
        var covariance = outer / count - torch.outer(mean, mean);
        var (eigenvalues, eigenvectors) = linalg.eigh(covariance);   // ascending
        var descending = eigenvalues.flip(0).clamp_min(0);
        var cumulative = (descending.cumsum(0) / descending.sum()).data<double>().ToArray();
        int kept = Array.FindIndex(cumulative, c => c >= keepVariance) + 1;
        if (kept <= 0) kept = (int)d;
        var basis = eigenvectors.flip(1)[.., ..kept];               // [d, kept]
        var projection = matmul(basis, basis.t());                  // P

        var w = weight.reshape(width, d).to(ScalarType.Float64);
        var projected = matmul(w, projection);
        var lost = matmul(w - projected, mean);                      // W·(I−P)·mean, [width]
        weight.copy_(projected.reshape(weight.shape).to(weight.dtype));
        vit.positional_embedding[1..].add_(lost.to(vit.positional_embedding.dtype));
        return new Result((int)d, kept, cumulative[kept - 1], count);
    }
}
