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

    /// <summary>
    /// Whether every object was found and classified as the kind its claim names: each kind check passed (a kind check
    /// is skipped when the object's colour is missing, which does not count as right here).
    /// </summary>
    public bool KindsRight => AllPassed("kind");

    /// <summary>
    /// Whether there is at least one check of this aspect ("kind", "colour", "position", "size": the part of a check's
    /// name after "object: ") and every one of them passed; a skipped check is not a pass.
    /// </summary>
    public bool AllPassed(string aspect)
    {
        string suffix = ": " + aspect;
        var checks = Checks.Where(c => c.Name.EndsWith(suffix, StringComparison.Ordinal)).ToList();
        return checks.Count > 0 && checks.All(c => c.Outcome == CheckOutcome.Passed);
    }

    /// <summary>The failed checks' reasons, or "ok".</summary>
    public string Summary => Satisfied ? "ok" : string.Join("; ", Failures.Select(f => f.Reason));

    public override string ToString() =>
        $"{(Satisfied ? "SATISFIED" : "NOT SATISFIED")} \"{Spec.Text}\"" + Environment.NewLine +
        string.Join(Environment.NewLine, Checks.Select(c => "  " + c));
}
