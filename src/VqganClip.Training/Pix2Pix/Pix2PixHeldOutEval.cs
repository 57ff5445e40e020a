using VqganClip.Clipart.Judge;
using VqganClip.Models.Pix2Pix;
using static TorchSharp.torch;

namespace VqganClip.Training.Pix2Pix;

/// <summary>
/// How well a generator colours held-out clipart outlines: mean L1 between its output and the coloured scene (on
/// upstream's [-1, 1] scale, as pix2pix's loss_G_L1 before λ), and, with a judge, how often the judge accepts the
/// colouring for the scene's own caption: every check (kinds, colours the caption names, places, relations), the kind
/// checks alone, and the colour checks alone; and the colour-blind kind check (<see cref="SceneJudge.KindsAtPlaces"/>:
/// every object's kind recognised at its drawn place, whatever colour it was painted), with the same check on the
/// coloured scenes themselves and on the outlines as its baselines. Baselines for the L1: the outline itself and the
/// mean of the held-out pictures.
/// </summary>
public static class Pix2PixHeldOutEval
{
    public sealed record Result(int Scenes, double L1, double L1Outline, double L1MeanImage, double JudgeAccepts, double KindAccepts, double ColourAccepts, bool TrainMode,
        double KindsAtPlaces = double.NaN, double KindsAtPlacesTargets = double.NaN, double KindsAtPlacesOutlines = double.NaN);

    /// <summary>
    /// The first <paramref name="scenes"/> held-out outlines with the generator's colouring in evaluation mode, in
    /// training mode (dropout seeded) and the coloured scene: [4·scenes, 3, 64, 64] in [0, 1], one scene a row of 4.
    /// </summary>
    public static Tensor Rows(UnetGenerator g, int scenes, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(g);
        using var scope = NewDisposeScope();
        var (a, b, _) = ClipartPairs.HeldOut(scenes, threads);
        manual_seed(20_240_601);
        var eval = g.Generate(a, trainMode: false);
        var train = g.Generate(a, trainMode: true);
        var rows = stack([a, eval, train, b], 1).reshape(4L * scenes, 3, a.shape[2], a.shape[3]);
        return ((rows + 1) / 2).clamp(0, 1).MoveToOuterDisposeScope();
    }

    public static Result Run(UnetGenerator g, int scenes, SceneJudge? judge = null, bool trainMode = false, int threads = 0, int batch = 50)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scenes);
        var (specsAll, captionsAll) = ClipartBatches.HeldOut(scenes);
        double l1 = 0, l1Outline = 0, l1Mean = 0;
        // The mean-image baseline: the per-pixel mean of these very targets (what an L1-trained net with no use for
        // the outline would approach; slightly optimistic, as it has seen the held-out targets).
        Tensor meanImage;
        using (var scope = NewDisposeScope())
        {
            var sum = zeros(3, 64, 64);
            for (int start = 0; start < scenes; start += batch)
            {
                int n = Math.Min(batch, scenes - start);
                var (_, b) = ClipartPairs.Render(specsAll.Skip(start).Take(n).ToArray(), threads);
                // image by image: b.sum(0) gave an impossible baseline here (L1 2.19 on a [-1, 1] scale); not investigated further
                for (int i = 0; i < n; i++) sum.add_(b[i]);
            }
            meanImage = (sum / scenes).MoveToOuterDisposeScope();
        }
        int accepted = 0, kindOk = 0, colourOk = 0, placedOk = 0, placedTargetOk = 0, placedOutlineOk = 0;
        // Training-mode colouring is stochastic (dropout): seeded so the figure is repeatable.
        manual_seed(20_240_601);
        for (int start = 0; start < scenes; start += batch)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batch, scenes - start);
            var (a, b) = ClipartPairs.Render(specsAll.Skip(start).Take(n).ToArray(), threads);
            var fake = g.Generate(a, trainMode);
            l1 += (fake - b).abs().mean([1, 2, 3]).sum().item<float>();
            l1Outline += (a - b).abs().mean([1, 2, 3]).sum().item<float>();
            l1Mean += (meanImage - b).abs().mean([1, 2, 3]).sum().item<float>();
            if (judge is null) continue;
            var pictures = ((fake + 1) / 2).clamp(0, 1);
            var targets = ((b + 1) / 2).clamp(0, 1);
            var outlines = ((a + 1) / 2).clamp(0, 1);
            for (int i = 0; i < n; i++)
            {
                var scene = specsAll[start + i];
                if (judge.ChecksKinds && judge.KindsAtPlaces(SceneJudge.ToPlanar64(pictures[i]), scene).All(ok => ok)) placedOk++;
                if (judge.ChecksKinds && judge.KindsAtPlaces(SceneJudge.ToPlanar64(targets[i]), scene).All(ok => ok)) placedTargetOk++;
                if (judge.ChecksKinds && judge.KindsAtPlaces(SceneJudge.ToPlanar64(outlines[i]), scene).All(ok => ok)) placedOutlineOk++;
                var verdict = judge.Judge(pictures[i], captionsAll[start + i]);
                if (verdict.Satisfied) accepted++;
                // A kind is only checked on an object found by its colour: a skipped kind check counts as not accepted.
                if (verdict.KindsRight) kindOk++;
                if (verdict.AllPassed("colour")) colourOk++;
            }
        }
        meanImage.Dispose();
        double J(int k) => judge is null ? double.NaN : (double)k / scenes;
        double P(int k) => judge is { ChecksKinds: true } ? (double)k / scenes : double.NaN;
        return new Result(scenes, l1 / scenes, l1Outline / scenes, l1Mean / scenes, J(accepted), J(kindOk), J(colourOk), trainMode,
            P(placedOk), P(placedTargetOk), P(placedOutlineOk));
    }
}
