using TorchSharp;
using VqganClip.Guidance.ClipartWorld;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Training;

/// <summary>
/// Shape-free copies of scenes, as hard negatives for CLIP training: one object of each scene is replaced by a blob
/// of its colour with the same mass and place (its silhouette blurred with a Gaussian of random width, then either
/// thresholded at half its peak, a rounded blob, or used as a soft alpha, a smear). This is what CLIP guidance
/// draws for an object word when the guide reads colour and place but not shape; a caption that must rank the
/// drawing above its blob can only do so by reading the outline. Circles are left out (a blurred circle is a
/// circle). Seeded by the generator passed in; the silhouette comes from rendering the scene twice with the
/// object in two colours, the canvas from rendering it with the object shrunk to nothing.
/// </summary>
public static class BlobNegatives
{
    /// <summary>Smallest and largest blur (pixels of a 64-pixel scene).</summary>
    public const double MinSigma = 1.5, MaxSigma = 3.5;

    /// <summary>Which scenes get a blob negative (not circles), and which of their objects: at most <paramref name="count"/>.</summary>
    public static (int[] Scenes, int[] Objects) Choose(IReadOnlyList<SceneSpec> specs, int count, Random random)
    {
        var scenes = new List<int>();
        var objects = new List<int>();
        foreach (int i in Enumerable.Range(0, specs.Count).OrderBy(_ => random.Next()))
        {
            if (scenes.Count == count) break;
            int which = random.Next(specs[i].Objects.Count);
            if (specs[i].Objects[which].Kind == ObjectKind.Circle) continue;
            scenes.Add(i);
            objects.Add(which);
        }
        return (scenes.ToArray(), objects.ToArray());
    }

    /// <summary>
    /// The blob copies [M, 3, 64, 64] in [0, 1] of <paramref name="specs"/>[scenes[k]] with object objects[k] blurred away.
    /// <paramref name="drawings"/> [M, 3, 64, 64] are those scenes as already rendered (the trainer has them in its batch).
    /// </summary>
    public static Tensor Make(IReadOnlyList<SceneSpec> specs, Tensor drawings, int[] scenes, int[] objects, Generator generator, int renderThreads = 0)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var silhouette = ObjectSilhouettes.Of(specs, drawings, scenes, objects, renderThreads);
        int m = scenes.Length;
        var emptied = new SceneSpec[m];
        var colours = new float[m * 3];
        for (int k = 0; k < m; k++)
        {
            var o = specs[scenes[k]].Objects[objects[k]];
            emptied[k] = ObjectSilhouettes.With(specs[scenes[k]], objects[k], o with { Extent = 1e-4f });
            var rgb = Palette.Of(o.Color);
            (colours[3 * k], colours[3 * k + 1], colours[3 * k + 2]) = (rgb.R / 255f, rgb.G / 255f, rgb.B / 255f);
        }
        var canvas = ClipartBatches.Render(emptied, renderThreads);

        var u = rand([m, 2], generator: generator);
        var sigma = MinSigma + (MaxSigma - MinSigma) * u[.., 0];
        var blurred = GaussianBlur(silhouette, sigma);
        blurred = blurred / blurred.amax([1, 2, 3], keepdim: true).clamp_min(1e-6);
        var hard = (blurred > 0.5).to(ScalarType.Float32);
        var soft = (blurred * 1.5).clamp(0, 1);
        var alpha = where((u[.., 1] < 0.5).reshape(m, 1, 1, 1), hard, soft);
        var colour = tensor(colours, [m, 3, 1, 1]);
        return (canvas * (1 - alpha) + colour * alpha).MoveToOuterDisposeScope();
    }

    /// <summary>Per-image Gaussian blur of [M, 1, H, W] with standard deviations <paramref name="sigma"/> [M] (zero padding).</summary>
    private static Tensor GaussianBlur(Tensor images, Tensor sigma)
    {
        long m = images.shape[0];
        int radius = (int)Math.Ceiling(3 * MaxSigma);
        var offsets = arange(-radius, radius + 1, dtype: ScalarType.Float32);
        var kernel = (-(offsets.unsqueeze(0).pow(2)) / (2 * sigma.unsqueeze(1).pow(2))).exp();   // [M, K]
        kernel = kernel / kernel.sum(1, keepdim: true);
        // Grouped convolution: image k is blurred by its own kernel, rows then columns.
        var x = images.reshape(1, m, images.shape[2], images.shape[3]);
        x = nn.functional.conv2d(x, kernel.reshape(m, 1, 1, -1), padding: [0, radius], groups: m);
        x = nn.functional.conv2d(x, kernel.reshape(m, 1, -1, 1), padding: [radius, 0], groups: m);
        return x.reshape(images.shape);
    }
}
