using TorchSharp;
using VqganClip.Guidance.ClipartWorld;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Training;

/// <summary>
/// Scenes with one object repeated, as hard negatives for CLIP training: one to three exact copies of an object (its
/// own pixels, cut out by its silhouette) pasted at other places of the frame, away from the original. This is what
/// guidance with a convolutional guide paints (the object's colour and shape in every quarter), and nothing in the
/// clipart world's captions asks a CLIP to count: "a red circle on the left" is never drawn with two red circles, so
/// without these the guide has no reason to prefer one. Seeded by the random source passed in; the silhouette comes
/// from rendering the scene again with the object in another colour (as <see cref="BlobNegatives"/>).
/// </summary>
public static class CopyNegatives
{
    /// <summary>Most extra copies of the object in one negative.</summary>
    public const int MaxCopies = 3;

    /// <summary>Which scenes get a copy negative, and which of their objects: <paramref name="count"/> scenes (all, when fewer).</summary>
    public static (int[] Scenes, int[] Objects) Choose(IReadOnlyList<SceneSpec> specs, int count, Random random)
    {
        var scenes = Enumerable.Range(0, specs.Count).OrderBy(_ => random.Next()).Take(count).ToArray();
        return (scenes, scenes.Select(i => random.Next(specs[i].Objects.Count)).ToArray());
    }

    /// <summary>
    /// The copies [M, 3, 64, 64] in [0, 1] of <paramref name="specs"/>[scenes[k]] with object objects[k] repeated.
    /// <paramref name="drawings"/> [M, 3, 64, 64] are those scenes as already rendered (the trainer has them in its batch).
    /// </summary>
    public static Tensor Make(IReadOnlyList<SceneSpec> specs, Tensor drawings, int[] scenes, int[] objects, Random random, int renderThreads = 0)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var silhouette = ObjectSilhouettes.Of(specs, drawings, scenes, objects, renderThreads);
        int m = scenes.Length, side = (int)drawings.shape[3];
        var results = new Tensor[m];
        for (int k = 0; k < m; k++)
        {
            var o = specs[scenes[k]].Objects[objects[k]];
            var picture = drawings[k];
            var alpha = silhouette[k];
            int copies = 1 + random.Next(MaxCopies);
            foreach (var (dx, dy) in Shifts(o, copies, side, random))
            {
                var shiftedAlpha = Shift(alpha, dx, dy);
                picture = picture * (1 - shiftedAlpha) + Shift(drawings[k], dx, dy) * shiftedAlpha;
            }
            results[k] = picture;
        }
        return stack(results).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Pixel offsets that put a copy of <paramref name="o"/> wholly inside the frame with its centre at least one
    /// extent away from the original's (up to 20 draws per copy; a copy that finds no such place is left out).
    /// </summary>
    internal static List<(int Dx, int Dy)> Shifts(SceneObject o, int copies, int side, Random random)
    {
        double half = o.Extent / 2, x0 = o.CenterX, y0 = o.CenterY;
        var shifts = new List<(int, int)>();
        for (int c = 0; c < copies; c++)
            for (int attempt = 0; attempt < 20; attempt++)
            {
                double x = half + random.NextDouble() * (1 - 2 * half), y = half + random.NextDouble() * (1 - 2 * half);
                if (Math.Sqrt((x - x0) * (x - x0) + (y - y0) * (y - y0)) < o.Extent) continue;
                shifts.Add(((int)Math.Round((x - x0) * side), (int)Math.Round((y - y0) * side)));
                break;
            }
        return shifts;
    }

    /// <summary><paramref name="image"/> [C, H, W] moved by (dx, dy) pixels; what comes in from outside is zero: out[y, x] = in[y − dy, x − dx].</summary>
    internal static Tensor Shift(Tensor image, int dx, int dy)
    {
        int ax = Math.Abs(dx), ay = Math.Abs(dy);
        var padded = nn.functional.pad(image.unsqueeze(0), [ax, ax, ay, ay]).squeeze(0);
        return padded.narrow(1, ay - dy, image.shape[1]).narrow(2, ax - dx, image.shape[2]);
    }
}
