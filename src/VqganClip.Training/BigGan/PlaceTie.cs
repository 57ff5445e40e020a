using static TorchSharp.torch;

namespace VqganClip.Training.BigGan;

/// <summary>
/// The place tie (<see cref="BigGanTrainingOptions.PlaceTieWeight"/>): where the class's colour sits in G's sample is
/// pulled toward where it sits in the world's drawing of the scene the noise names (<see cref="NoiseScenes"/>). Each
/// picture's place is the soft centroid of its class colour, Σ m·(x, y) / Σ m with
/// m = exp(−|pixel − palette colour|² / 0.02) (pixels in [0, 1]; 0.02 keeps a pixel within about 0.14 of the colour),
/// x and y the pixel centres in fractions of the side. Unlike the scene tie's whole-picture L1, whose gradient at an
/// object drawn in the wrong place is only the two blobs' pixels, the centroid's gradient reaches every pixel of the
/// class's colour and says which way to move; the redraw tie (<see cref="RedrawnScenes"/>) alone lets the objects
/// drift to the places G draws best (docs/research/clipart-biggan-log.md, session 29).
/// </summary>
public static class PlaceTie
{
    /// <summary>The squared colour distance at which a pixel's weight falls to 1/e.</summary>
    public const double ColourScale = 0.02;

    /// <summary>
    /// Mean |centroid(sample) − centroid(named)| over the batch and both axes, in fractions of the picture:
    /// <paramref name="samples01"/> and <paramref name="named01"/> are [N, 3, H, W] in [0, 1], one class id per row.
    /// </summary>
    public static Tensor Term(Tensor samples01, Tensor named01, Tensor classIds)
    {
        ArgumentNullException.ThrowIfNull(samples01);
        ArgumentNullException.ThrowIfNull(named01);
        ArgumentNullException.ThrowIfNull(classIds);
        if (samples01.dim() != 4 || samples01.shape[1] != 3 || !samples01.shape.SequenceEqual(named01.shape))
            throw new ArgumentException($"The place tie compares two batches of RGB pictures of one shape; got [{string.Join(", ", samples01.shape)}] and [{string.Join(", ", named01.shape)}].");
        if (classIds.dim() != 1 || classIds.shape[0] != samples01.shape[0])
            throw new ArgumentException($"One class id per picture: got {classIds.shape[0]} ids for {samples01.shape[0]} pictures.", nameof(classIds));
        var colours = ClipartClasses.PaletteColours(classIds);
        return (Centroids(samples01, colours) - Centroids(named01, colours)).abs().mean();
    }

    /// <summary>[N, 2] soft centroids (x, y) of the colours <paramref name="colours"/> [N, 3, 1, 1] in <paramref name="pictures01"/>.</summary>
    public static Tensor Centroids(Tensor pictures01, Tensor colours)
    {
        long h = pictures01.shape[2], w = pictures01.shape[3];
        var m = (-(pictures01 - colours).pow(2).sum(1, keepdim: true) / ColourScale).exp();
        // + 0.001: a picture without the colour has its centroid at 0 (and a zero gradient) instead of 0/0
        var mass = m.sum([1, 2, 3]) + 0.001;
        var xs = linspace(0.5 / w, 1 - 0.5 / w, w).reshape(1, 1, 1, w);
        var ys = linspace(0.5 / h, 1 - 0.5 / h, h).reshape(1, 1, h, 1);
        var x = (m * xs).sum([1, 2, 3]) / mass;
        var y = (m * ys).sum([1, 2, 3]) / mass;
        return stack([x, y], 1);
    }
}
