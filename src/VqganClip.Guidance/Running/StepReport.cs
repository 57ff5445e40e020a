namespace VqganClip.Guidance.Running;

/// <summary>The loss of one prompt at one step.</summary>
/// <param name="Index">Index of the prompt in <see cref="GuidedRun.Prompts"/>.</param>
/// <param name="Label">The prompt's label (text, image file or noise seed, with its weight).</param>
/// <param name="Value">Its weighted loss.</param>
public sealed record PromptLoss(int Index, string Label, double Value);

/// <summary>
/// The losses measured at one step, read back from the device: the total, each active prompt's term and each
/// regulariser's term. <see cref="Step"/> is the number of steps completed before this one, i.e. the losses are
/// those of the picture after <see cref="Step"/> updates (step 0 = the starting picture).
/// </summary>
public sealed record LossRecord(int Step, double Total, IReadOnlyList<PromptLoss> Prompts,
    IReadOnlyDictionary<string, double> Regularizers, double LearningRate, int Phase);

/// <summary>
/// What <see cref="GuidedRun.Step"/> reports after a step: the step's losses (<see cref="Loss"/>), where the run
/// is (<see cref="Completed"/> of <see cref="Target"/> in this call; <see cref="TotalSteps"/> overall), timing,
/// and the picture the losses were measured on (<see cref="Image"/>, managed memory).
/// </summary>
public sealed record StepReport
{
    /// <summary>The losses of this step (null only when cancelled before any step ran).</summary>
    public LossRecord? Loss { get; init; }
    /// <summary>Steps done in this <see cref="GuidedRun.Step"/> call.</summary>
    public int Completed { get; init; }
    /// <summary>Steps asked for in this call.</summary>
    public int Target { get; init; }
    /// <summary>Steps done by the run overall (its <see cref="GuidedRun.StepCount"/>).</summary>
    public int TotalSteps { get; init; }
    /// <summary>Wall time of this step, seconds.</summary>
    public double StepSeconds { get; init; }
    /// <summary>Wall time since this call started, seconds.</summary>
    public double ElapsedSeconds { get; init; }
    /// <summary>The picture the losses were measured on (before this step's update).</summary>
    public RenderedImage? Image { get; init; }
    /// <summary>True when the call stopped early because its cancellation token fired.</summary>
    public bool Cancelled { get; init; }

    public double Total => Loss?.Total ?? double.NaN;
    public double LearningRate => Loss?.LearningRate ?? double.NaN;
    public double StepsPerSecond => Completed > 0 && ElapsedSeconds > 0 ? Completed / ElapsedSeconds : 0;
    /// <summary>Estimated seconds left in this call.</summary>
    public double EtaSeconds => StepsPerSecond > 0 ? (Target - Completed) / StepsPerSecond : double.NaN;
}
