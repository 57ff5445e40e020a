using VqganClip.Guidance.Cutouts;
using static TorchSharp.torch;

namespace VqganClip.Guidance.StyleClip;

/// <summary>
/// StyleCLIP's view for the guidance engine: one "cutout", the whole picture through <see cref="StyleClipPooling"/>,
/// handed to CLIP as upstream does, in [−1, 1] and not mean/std-normalised (<see cref="OutputsClipInput"/>). The
/// engine's pictures are in [0, 1]; the generator's [−1, 1] picture is 2x − 1 of them.
/// </summary>
public sealed class StyleClipCutouts(int cutSize) : ICutouts
{
    public int CutSize { get; } = cutSize;

    public int Count => 1;

    public string Name => "styleclip";

    public bool OutputsClipInput => true;

    /// <summary>One view, the whole picture: there is no count to change.</summary>
    public ICutouts WithCount(int count) => this;

    public Tensor Cut(Tensor image, Generator rng)
    {
        using var scope = NewDisposeScope();
        return StyleClipPooling.Pool(image * 2 - 1, CutSize).MoveToOuterDisposeScope();
    }
}
