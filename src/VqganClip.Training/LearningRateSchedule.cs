namespace VqganClip.Training;

/// <summary>Linear warm-up to the peak rate, then a half-cosine down to <c>peak * finalFraction</c> at the last step.</summary>
public sealed record LearningRateSchedule(double Peak, long WarmupSteps, long TotalSteps, double FinalFraction = 0.1)
{
    /// <summary>The rate for (zero-based) <paramref name="step"/>.</summary>
    public double At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        long decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double t = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        double floor = Peak * FinalFraction;
        return floor + (Peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}
