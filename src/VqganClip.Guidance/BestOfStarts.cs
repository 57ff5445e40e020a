namespace VqganClip.Guidance;

/// <summary>
/// Several starts, one picture: guidance from random codes often settles in a poor local optimum (a mosaic of codes
/// CLIP rates well below a real drawing of the prompt, e.g. 0.59 against the drawing's 0.86 with the shipped models),
/// and which start does is luck. So <see cref="Choose"/> runs <c>starts</c> runs (seeds seed, seed+1, ...) for a few
/// trial steps, measures each on the same fixed cutouts (<see cref="GuidedRun.Evaluate"/>, so the comparison is of
/// pictures, not cutout luck), keeps the one with the lowest loss and disposes the others. The kept run goes on
/// from its trial steps, so one start is exactly the plain run.
/// </summary>
public static class BestOfStarts
{
    /// <summary>Cutouts of the fixed set each candidate is measured on.</summary>
    public const int EvaluationCutouts = 64;

    /// <summary>What happened to one start: its seed and its measured loss after the trial steps.</summary>
    public sealed record Candidate(long Seed, double Loss);

    /// <summary>
    /// Runs <paramref name="starts"/> candidates made by <paramref name="start"/> (called with 0, 1, ...; the caller
    /// offsets the seed by it) for <paramref name="trialSteps"/> steps each and returns the best one (the caller owns
    /// it) and every candidate's measured loss. With one start no trial is measured and the run is returned unstepped.
    /// </summary>
    public static (GuidedRun Best, IReadOnlyList<Candidate> Candidates) Choose(Func<int, GuidedRun> start, int starts, int trialSteps,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (starts < 1) throw new ArgumentException($"starts must be at least 1; got {starts}.", nameof(starts));
        if (trialSteps < 1 && starts > 1) throw new ArgumentException($"trial steps must be at least 1 to compare starts; got {trialSteps}.", nameof(trialSteps));
        if (starts == 1)
        {
            var only = start(0);
            return (only, [new Candidate(only.Options.Seed, double.NaN)]);
        }
        GuidedRun? best = null;
        double bestLoss = double.PositiveInfinity;
        var candidates = new List<Candidate>();
        try
        {
            for (int k = 0; k < starts; k++)
            {
                ct.ThrowIfCancellationRequested();
                var run = start(k);
                try
                {
                    run.Step(trialSteps, ct: ct);
                    // the same cutouts for every candidate (seed 0 of Evaluate's own generator)
                    double loss = run.Evaluate(EvaluationCutouts).Total;
                    candidates.Add(new Candidate(run.Options.Seed, loss));
                    if (best is null || loss < bestLoss)
                    {
                        (best, run) = (run, best!);
                        bestLoss = loss;
                    }
                }
                finally { run?.Dispose(); }
            }
        }
        catch
        {
            best?.Dispose();
            throw;
        }
        return (best!, candidates);
    }
}
