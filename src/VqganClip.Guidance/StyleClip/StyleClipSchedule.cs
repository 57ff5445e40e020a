using VqganClip.Guidance.Optimization;

namespace VqganClip.Guidance.StyleClip;

/// <summary>
/// StyleCLIP's <c>get_lr(t, initial_lr, rampdown=0.25, rampup=0.05)</c> (optimization/run_optimization.py), t = step/steps:
/// a cosine ramp-down over the last quarter and a linear ramp-up over the first 5 %. The rate is 0 at the first step
/// (t = 0), as upstream; its <c>--lr_rampup</c> argument is never read there, so it is not an option here either.
/// </summary>
public sealed class StyleClipSchedule(int steps) : ISchedule
{
    public const double RampDown = 0.25;
    public const double RampUp = 0.05;

    public int Steps { get; } = steps > 0 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), $"StyleCLIP's schedule needs the run's step count (got {steps}).");

    /// <summary>get_lr(t, initialLr).</summary>
    public static double GetLr(double t, double initialLr)
    {
        double ramp = Math.Min(1, (1 - t) / RampDown);
        ramp = 0.5 - 0.5 * Math.Cos(ramp * Math.PI);
        ramp *= Math.Min(1, t / RampUp);
        return initialLr * ramp;
    }

    public double LearningRate(int step, double baseRate) => GetLr(step / (double)Steps, baseRate);

    public string Describe() => $"styleclip:{Steps}";
}
