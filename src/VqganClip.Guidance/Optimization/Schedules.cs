using System.Globalization;

namespace VqganClip.Guidance.Optimization;

/// <summary>A learning-rate schedule: the rate to use at a step, given the run's base rate.</summary>
public interface ISchedule
{
    double LearningRate(int step, double baseRate);

    /// <summary>Text <see cref="Schedules.Parse"/> reads back, or null for schedules that cannot be saved (code delegates).</summary>
    string? Describe();
}

/// <summary>
/// Built-in schedules and their text form: <c>constant</c>, <c>cosine:STEPS[:MINFACTOR]</c>, <c>warmup:STEPS</c>,
/// <c>warmup-cosine:WARMUP:TOTAL[:MINFACTOR]</c> (the trainers' schedule).
/// </summary>
public static class Schedules
{
    public static ISchedule Constant { get; } = new ConstantSchedule();

    /// <summary>Cosine decay from the base rate to base·<paramref name="minFactor"/> over <paramref name="steps"/> steps, then flat.</summary>
    public static ISchedule Cosine(int steps, double minFactor = 0.1) => new CosineSchedule(steps, minFactor);

    /// <summary>Linear warm-up from 0 to the base rate over <paramref name="steps"/> steps, then flat.</summary>
    public static ISchedule Warmup(int steps) => new WarmupSchedule(steps);

    /// <summary>
    /// Linear warm-up to the base rate over <paramref name="warmupSteps"/> steps (step s gets (s+1)/warmup of it), then a
    /// half-cosine down to base·<paramref name="minFactor"/> at <paramref name="totalSteps"/>, then flat: the trainers' schedule.
    /// </summary>
    public static ISchedule WarmupCosine(int warmupSteps, int totalSteps, double minFactor = 0.1) => new WarmupCosineSchedule(warmupSteps, totalSteps, minFactor);

    /// <summary>Any function of the step (not saved with a run: pass it again when resuming).</summary>
    public static ISchedule FromFunction(Func<int, double> rateAtStep) => new FunctionSchedule(rateAtStep);

    public static ISchedule Parse(string text)
    {
        var parts = text.Trim().Split(':');
        string kind = parts[0].ToLowerInvariant();
        int Int(int i) => parts.Length > i && int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw new FormatException($"Schedule '{text}': part {i + 1} must be a positive whole number of steps.");
        double Dbl(int i, double dflt) => parts.Length <= i ? dflt
            : double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new FormatException($"Schedule '{text}': part {i + 1} ('{parts[i]}') is not a number.");
        return kind switch
        {
            "constant" or "" => Constant,
            "cosine" => Cosine(Int(1), Dbl(2, 0.1)),
            "warmup" => Warmup(Int(1)),
            "warmup-cosine" => WarmupCosine(Int(1), Int(2), Dbl(3, 0.1)),
            "styleclip" => new StyleClip.StyleClipSchedule(Int(1)),
            _ => throw new FormatException($"Unknown schedule '{text}': use constant, cosine:STEPS[:MINFACTOR], warmup:STEPS, warmup-cosine:WARMUP:TOTAL[:MINFACTOR] or styleclip:STEPS."),
        };
    }

    private sealed class ConstantSchedule : ISchedule
    {
        public double LearningRate(int step, double baseRate) => baseRate;
        public string Describe() => "constant";
    }

    private sealed record CosineSchedule(int Steps, double MinFactor) : ISchedule
    {
        public double LearningRate(int step, double baseRate)
        {
            double t = Math.Min(1.0, (double)step / Steps);
            return baseRate * (MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * t)));
        }
        public string Describe() => FormattableString.Invariant($"cosine:{Steps}:{MinFactor:R}");
    }

    private sealed record WarmupSchedule(int Steps) : ISchedule
    {
        public double LearningRate(int step, double baseRate) => baseRate * Math.Min(1.0, (step + 1.0) / Steps);
        public string Describe() => FormattableString.Invariant($"warmup:{Steps}");
    }

    private sealed record WarmupCosineSchedule(int WarmupSteps, int TotalSteps, double MinFactor) : ISchedule
    {
        public double LearningRate(int step, double baseRate)
        {
            if (WarmupSteps > 0 && step < WarmupSteps) return baseRate * (step + 1) / WarmupSteps;
            long decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
            double t = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
            double floor = baseRate * MinFactor;
            return floor + (baseRate - floor) * 0.5 * (1 + Math.Cos(Math.PI * t));
        }
        public string Describe() => FormattableString.Invariant($"warmup-cosine:{WarmupSteps}:{TotalSteps}:{MinFactor:R}");
    }

    private sealed class FunctionSchedule(Func<int, double> f) : ISchedule
    {
        public double LearningRate(int step, double baseRate) => f(step);
        public string? Describe() => null;
    }
}
