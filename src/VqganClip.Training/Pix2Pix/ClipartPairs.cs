using VqganClip.Clipart;
using static TorchSharp.torch;

namespace VqganClip.Training.Pix2Pix;

/// <summary>
/// Outline → picture pairs from the clipart world: A = the scene as a black line drawing on white
/// (<see cref="SceneStyle.Outline"/>), B = the coloured scene, both [N, 3, 64, 64] in [-1, 1] (upstream's
/// normalisation). Training pairs are a function of (seed, step) (<see cref="ClipartBatches.Scenes"/>); held-out
/// pairs come from <see cref="ClipartBatches.HeldOut"/>.
/// </summary>
public static class ClipartPairs
{
    public static (Tensor A, Tensor B) Render(IReadOnlyList<SceneSpec> specs, int threads = 0)
    {
        using var scope = NewDisposeScope();
        int? maxThreads = threads > 0 ? threads : null;
        var a = SceneRenderer.RenderBatch(specs, SceneLayout.Size, maxThreads, SceneStyle.Outline) * 2 - 1;
        var b = SceneRenderer.RenderBatch(specs, SceneLayout.Size, maxThreads, SceneStyle.Filled) * 2 - 1;
        return (a.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }

    public static (Tensor A, Tensor B, string[] Captions) Training(long seed, long step, int count, int threads = 0)
    {
        var (specs, captions) = ClipartBatches.Scenes(seed ^ 0x5A1D, step, count);
        var (a, b) = Render(specs, threads);
        return (a, b, captions);
    }

    public static (Tensor A, Tensor B, string[] Captions) HeldOut(int count, int threads = 0)
    {
        var (specs, captions) = ClipartBatches.HeldOut(count);
        var (a, b) = Render(specs, threads);
        return (a, b, captions);
    }
}
