using TorchSharp;
using VqganClip.Clipart;
using static TorchSharp.torch;

namespace VqganClip.Training;

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

    /// <summary>
    /// The captioned scenes of one training step of which the first round(<paramref name="oneObjectBigShare"/> x
    /// <paramref name="count"/>) are one-object scenes whose object is big (the world's sampler without pairs, redrawn
    /// until the object is big; captioned as the world captions them), the rest the world's own scenes, pairs included.
    /// Share 0 is exactly <see cref="Scenes"/>; the one-object stream is seeded by the step's seed and the world's
    /// remainder by the bit-complemented run seed's, so the two never repeat each other's draws. With
    /// <paramref name="oneObjectPlace"/> the one-object scenes are also redrawn until their object is at that place
    /// (the same stream: the big scenes that were already there keep their draws). With <paramref name="canonical"/>
    /// each one-object scene's object is then put at its place's canonical spot and size, upright
    /// (<see cref="SceneObject.Canonical"/>; the same draws and captions, only the sampler's jitter dropped).
    /// </summary>
    public static (SceneSpec[] Specs, string[] Captions) ScenesWithOneObjectBigShare(long runSeed, long step, int count, double oneObjectBigShare,
        ScenePosition? oneObjectPlace = null, bool canonical = false)
    {
        if (oneObjectBigShare is < 0 or > 1 || double.IsNaN(oneObjectBigShare))
            throw new ArgumentOutOfRangeException(nameof(oneObjectBigShare), oneObjectBigShare, "The one-object big share must be in [0, 1].");
        if (oneObjectBigShare == 0) return Scenes(runSeed, step, count);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        int big = (int)Math.Round(oneObjectBigShare * count, MidpointRounding.AwayFromZero);
        var specs = new SceneSpec[count];
        var captions = new string[count];
        var oneObject = new SceneSampler(StepSeed(runSeed, step), pairFraction: 0);
        for (int i = 0; i < big; i++)
            do (specs[i], captions[i]) = oneObject.NextCaptioned();
            while (specs[i].Objects[0].Size != ObjectSize.Big || (oneObjectPlace is { } place && specs[i].Objects[0].Position != place));
        if (canonical)
            for (int i = 0; i < big; i++)
                specs[i] = specs[i].Canonical();
        if (big < count)
        {
            var (worldSpecs, worldCaptions) = Draw(new SceneSampler(StepSeed(~runSeed, step)), count - big);
            worldSpecs.CopyTo(specs, big);
            worldCaptions.CopyTo(captions, big);
        }
        return (specs, captions);
    }

    /// <summary>
    /// The captioned scenes of one training step in groups of <paramref name="variants"/> hard negatives: each group is
    /// one random scene drawn with one chosen object as <paramref name="variants"/> different kinds (same colour, size,
    /// place and background), each captioned with the same random choices, so a group's captions differ in that kind
    /// word only. A contrastive batch of such groups can only be solved by reading shapes; a batch of independent
    /// scenes is solved by colour and position almost always, which leaves the image tower's shape reading (and the
    /// gradient guidance follows towards a kind word) weak.
    /// </summary>
    public static (SceneSpec[] Specs, string[] Captions) ScenesWithKindVariants(long runSeed, long step, int count, int variants)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (variants < 2 || variants > Vocabulary.Kinds.Length)
            throw new ArgumentOutOfRangeException(nameof(variants), $"Kind variants must be between 2 and {Vocabulary.Kinds.Length} (got {variants}).");
        if (count % variants != 0)
            throw new ArgumentOutOfRangeException(nameof(count), $"The batch ({count}) must be a whole number of groups of {variants} kind variants.");
        var sampler = new SceneSampler(StepSeed(runSeed, step));
        var random = sampler.Random;
        var specs = new SceneSpec[count];
        var captions = new string[count];
        for (int g = 0; g < count / variants; g++)
        {
            var spec = sampler.Next();
            int which = random.Next(spec.Objects.Count);
            int captionSeed = random.Next();
            // the scene's own kind first, then variants - 1 other kinds without repeats
            var kinds = Vocabulary.Kinds.Where(k => k != spec.Objects[which].Kind).OrderBy(_ => random.Next()).Take(variants - 1)
                .Prepend(spec.Objects[which].Kind).ToArray();
            for (int v = 0; v < variants; v++)
            {
                specs[g * variants + v] = WithKind(spec, which, kinds[v]);
                captions[g * variants + v] = CaptionWriter.Caption(specs[g * variants + v], new Random(captionSeed));
            }
        }
        return (specs, captions);
    }

    /// <summary><paramref name="spec"/> with object <paramref name="which"/> drawn as <paramref name="kind"/>.</summary>
    public static SceneSpec WithKind(SceneSpec spec, int which, ObjectKind kind)
    {
        var objects = spec.Objects.ToArray();
        objects[which] = objects[which] with { Kind = kind };
        return new SceneSpec(objects, spec.Relation, spec.Background);
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
