using System.Globalization;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Guidance.BigSleep;

/// <summary>
/// A start for Big Sleep that CLIP chooses: the toolkit's, not upstream's. Upstream starts every class nearly off
/// (logits ~ N(−3.9, 0.3), so a small CLIP is left to find the class and the layout from a blend of every class,
/// and the optimisation rarely moves an object once it is drawn). Here:
/// <list type="number">
/// <item>the class: the one given, or CLIP's zero-shot choice over the model's class names (<see cref="ClassZeroShot"/>);
///   every latent row's class vector starts with that class on and the others off (logits ±<see cref="ClassLogit"/>,
///   a one-hot vector as the GAN was trained on, not a blend);</item>
/// <item>the latents: <c>candidates</c> draws of <c>normu</c> ~ N(0, 1) (Big Sleep's distribution), each picture measured
///   on the same fixed cutouts as <see cref="GuidedRun.Evaluate"/> measures, and the one with the lowest prompt loss kept
///   (where the object is, what background it is on: what the optimisation does not change afterwards).</item>
/// </list>
/// The draws come from their own generator seeded with the run's seed, so the start is reproducible; the run's own
/// random stream is not touched.
/// </summary>
public static class BigSleepStart
{
    /// <summary>|logit| of a chosen class (on: sigmoid ≈ 0.9999) and of the others (off: ≈ 1e-4, about 1% of mass over 120 classes).</summary>
    public const double ClassLogit = 9.2;

    /// <summary>Cutouts of the fixed set each candidate is measured on (as <see cref="BestOfStarts"/>).</summary>
    public const int EvaluationCutouts = BestOfStarts.EvaluationCutouts;

    /// <summary>
    /// Chooses and sets the start of <paramref name="run"/>'s biggan generator (before its first step).
    /// <paramref name="classSpec"/>: null or "auto" for CLIP's choice over <paramref name="names"/>, else a class id or
    /// a class name (case-insensitive).
    /// </summary>
    /// <exception cref="ArgumentException">The run's generator is not biggan, it has stepped already, fewer than one
    /// candidate, a class id outside the model's classes, a name that is not one of the class names, or CLIP asked to
    /// choose without class names or without a text or image prompt (each named).</exception>
    public static BigSleepStartResult Apply(GuidedRun run, string? classSpec, int candidates, ClassNames? names, string template = ClassZeroShot.DefaultTemplate)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Generator is not BigSleepGenerator generator)
            throw new ArgumentException($"A Big Sleep start is for the biggan generator; this run's is {run.Generator.Name}.");
        if (run.StepCount != 0) throw new ArgumentException($"A Big Sleep start is chosen before the first step; this run is at step {run.StepCount}.");
        if (candidates < 1) throw new ArgumentException($"candidates must be at least 1; got {candidates}.", nameof(candidates));
        int classes = generator.Model.Config.NumClasses;
        var (classId, chosenByClip, ranking) = ChooseClass(run, classSpec, names, classes, template);

        var device = generator.Device;
        var shape = generator.Latents.shape;
        using var rng = new Generator((ulong)run.Options.Seed, CPU);
        using var cls = full(generator.ClassLogits.shape, -ClassLogit, ScalarType.Float32, device);
        using (var index = tensor(new long[] { classId }, device: device)) cls.index_fill_(1, index, ClassLogit);
        var losses = new List<double>(candidates);
        Tensor? best = null;
        double bestLoss = double.PositiveInfinity;
        try
        {
            for (int k = 0; k < candidates; k++)
            {
                // drawn on the CPU generator (the same draws on every device); the CPU copy goes once moved
                var drawn = normal(BigSleepDefaults.LatentMean, BigSleepDefaults.LatentStd, shape, generator: rng);
                var normu = drawn.to(device);
                if (!ReferenceEquals(normu, drawn)) drawn.Dispose();
                generator.Start(normu, cls);
                double loss = candidates == 1 ? double.NaN : run.Evaluate(EvaluationCutouts).Prompts.Sum(p => p.Value);
                losses.Add(loss);
                if (best is null || loss < bestLoss)
                {
                    best?.Dispose();
                    (best, bestLoss) = (normu, loss);
                }
                else normu.Dispose();
            }
            generator.Start(best!, cls);
            generator.StartChoice = (string.IsNullOrWhiteSpace(classSpec) ? "auto" : classSpec.Trim(), candidates);
        }
        finally
        {
            best?.Dispose();
        }
        int kept = candidates == 1 ? 0 : losses.IndexOf(bestLoss);
        return new BigSleepStartResult(classId, names is not null && classId < names.Count ? names[classId] : null, chosenByClip, ranking, losses, kept);
    }

    private static (int ClassId, bool ChosenByClip, IReadOnlyList<ClassScore>? Ranking) ChooseClass(GuidedRun run, string? spec, ClassNames? names, int classes, string template)
    {
        spec = spec?.Trim();
        if (string.IsNullOrEmpty(spec) || spec.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            if (names is null)
                throw new ArgumentException($"CLIP chooses the BigGAN's class by its name, and this model's {classes} classes have no names: give the class id, " +
                    $"or a names file beside the weights ('<weights>{ClassNames.Extension}', one name a line, line 1 for class 0), or start as upstream does with every class nearly off (--class none).");
            names.CheckCount(classes);
            using var zeroShot = new ClassZeroShot(run.Clip, names, template);
            var ranking = zeroShot.Rank(run.PromptsAt(0));
            return (ranking[0].ClassId, true, ranking);
        }
        if (int.TryParse(spec, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id))
        {
            if (id < 0 || id >= classes)
                throw new ArgumentException($"The class {id} is not one of the BigGAN's classes 0-{classes - 1}.");
            return (id, false, null);
        }
        if (names is null)
            throw new ArgumentException($"The class '{spec}' is a name, and this BigGAN's classes have no names: give the class id (0-{classes - 1}).");
        for (int i = 0; i < names.Count; i++)
            if (names[i].Equals(spec, StringComparison.OrdinalIgnoreCase)) return (i, false, null);
        throw new ArgumentException($"The class '{spec}' is not one of the BigGAN's class names ({names.Source}); give a name as written there, an id, or 'auto'.");
    }
}

/// <summary>What <see cref="BigSleepStart.Apply"/> chose.</summary>
/// <param name="ClassId">The class every latent row starts on.</param>
/// <param name="ClassName">Its name, when the model's classes have names.</param>
/// <param name="ChosenByClip">True when CLIP chose the class (zero-shot over the names), false when it was given.</param>
/// <param name="Ranking">CLIP's ranking of every class, best first (null when the class was given).</param>
/// <param name="CandidateLosses">Each candidate's prompt loss on the fixed cutouts (NaN with one candidate: nothing to compare).</param>
/// <param name="Kept">The candidate kept (0-based).</param>
public sealed record BigSleepStartResult(int ClassId, string? ClassName, bool ChosenByClip, IReadOnlyList<ClassScore>? Ranking,
    IReadOnlyList<double> CandidateLosses, int Kept)
{
    /// <summary>One line: "class 12 'red square' (chosen by CLIP zero-shot), best of 16 latents: candidate 3 (loss -4.210)".</summary>
    public string Describe()
    {
        var cls = FormattableString.Invariant($"class {ClassId}{(ClassName is null ? "" : $" '{ClassName}'")} ({(ChosenByClip ? "chosen by CLIP zero-shot" : "given")})");
        return CandidateLosses.Count == 1 ? cls
            : FormattableString.Invariant($"{cls}, best of {CandidateLosses.Count} latents: candidate {Kept} (loss {CandidateLosses[Kept]:F3})");
    }
}
