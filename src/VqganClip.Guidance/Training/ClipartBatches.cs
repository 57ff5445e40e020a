using TorchSharp;
using VqganClip.Guidance.ClipartWorld;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Training;

/// <summary>
/// Deterministic clipart training data: the scenes of training step <c>s</c> of a run with seed <c>S</c> come
/// from <c>new SceneSampler(StepSeed(S, s))</c>, so a batch is a pure function of (seed, step). That is what
/// makes a resumed run continue exactly where it stopped without saving any random-number state.
/// <para>Held-out scenes come from <see cref="HeldOutSeed"/>, which lies outside the range <see cref="StepSeed"/>
/// maps to ([0, 2^30)), so evaluation never sees a training stream (System.Random folds negative seeds onto
/// positive ones, hence a disjoint positive range rather than a sign).</para>
/// </summary>
public static class ClipartBatches
{
    /// <summary>Seed of the held-out evaluation scenes (>= 2^30, outside every training step's seed).</summary>
    public const int HeldOutSeed = (1 << 30) + 20_240_601;

    /// <summary>The scene-sampler seed of one training step: a SplitMix64 mix of (run seed, step) folded into [0, 2^30).</summary>
    public static int StepSeed(long runSeed, long step)
    {
        ulong z = unchecked((ulong)runSeed * 0x9E3779B97F4A7C15UL + (ulong)step + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & ((1UL << 30) - 1));
    }

    /// <summary>The captioned scenes of one training step.</summary>
    public static (SceneSpec[] Specs, string[] Captions) Scenes(long runSeed, long step, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return Draw(new SceneSampler(StepSeed(runSeed, step)), count);
    }

    /// <summary>The first <paramref name="count"/> held-out captioned scenes (the same ones every time).</summary>
    public static (SceneSpec[] Specs, string[] Captions) HeldOut(int count) => Draw(new SceneSampler(HeldOutSeed), count);

    /// <summary>Renders scenes to [N, 3, 64, 64] float pixels in [0, 1].</summary>
    public static Tensor Render(IReadOnlyList<SceneSpec> specs, int threads = 0) =>
        SceneRenderer.RenderBatch(specs, SceneLayout.Size, threads > 0 ? threads : null);

    private static (SceneSpec[] Specs, string[] Captions) Draw(SceneSampler sampler, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var specs = new SceneSpec[count];
        var captions = new string[count];
        for (int i = 0; i < count; i++) (specs[i], captions[i]) = sampler.NextCaptioned();
        return (specs, captions);
    }
}
