namespace VqganClip.Clipart.Judge;

public enum CheckOutcome { Passed, Failed, Skipped }

/// <summary>One assertion of the caption checked against the image, with the measured reason.</summary>
public sealed record JudgeCheck(string Name, CheckOutcome Outcome, string Reason)
{
    public override string ToString() => $"[{Outcome}] {Name}: {Reason}";
}

/// <summary>Whether an image satisfies a caption: satisfied when no check failed.</summary>
public sealed record Verdict(CaptionSpec Spec, IReadOnlyList<JudgeCheck> Checks, SceneBackground AssumedBackground)
{
    public bool Satisfied => Checks.All(c => c.Outcome != CheckOutcome.Failed);

    public IEnumerable<JudgeCheck> Failures => Checks.Where(c => c.Outcome == CheckOutcome.Failed);

    /// <summary>The failed checks' reasons, or "ok".</summary>
    public string Summary => Satisfied ? "ok" : string.Join("; ", Failures.Select(f => f.Reason));

    public override string ToString() =>
        $"{(Satisfied ? "SATISFIED" : "NOT SATISFIED")} \"{Spec.Text}\"" + Environment.NewLine +
        string.Join(Environment.NewLine, Checks.Select(c => "  " + c));
}
