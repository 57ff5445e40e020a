using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Cutouts;

/// <summary>
/// Makes the batch CLIP looks at: <see cref="Count"/> random crops of the picture, each resampled to CLIP's input size.
/// Many random views per step are what keep CLIP guidance from fitting one adversarial view.
/// </summary>
public interface ICutouts
{
    /// <summary>Side of each cutout in pixels (CLIP's input resolution).</summary>
    int CutSize { get; }

    /// <summary>Cutouts per step (the original's <c>cutn</c>).</summary>
    int Count { get; }

    /// <summary>Short name for reports and saved runs, e.g. "original", "augmented".</summary>
    string Name { get; }

    /// <summary>Cuts image [1,3,H,W] in [0,1] into [Count,3,CutSize,CutSize] in [0,1], differentiably; all randomness from <paramref name="rng"/>.</summary>
    Tensor Cut(Tensor image, Generator rng);

    /// <summary>
    /// The same cutouts with another <see cref="Count"/> (e.g. more views for an evaluation). The built-in cutouts
    /// keep every setting; a custom one that does not override this falls back to <see cref="OriginalCutouts"/>.
    /// </summary>
    ICutouts WithCount(int count) => count == Count ? this : new OriginalCutouts(CutSize, count);

    /// <summary>
    /// True when <see cref="Cut"/> already gives CLIP's input as the method's upstream feeds it (StyleCLIP's pooled
    /// picture in [−1, 1], no mean/std normalisation), so the run must not normalise it again.
    /// </summary>
    bool OutputsClipInput => false;
}
