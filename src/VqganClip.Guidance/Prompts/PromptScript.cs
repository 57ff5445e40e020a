namespace VqganClip.Guidance.Prompts;

/// <summary>
/// A parsed prompt string: one or more story phases (separated by '^'), each a list of prompts (separated by '|').
/// With several phases the run switches to the next phase every <see cref="GuidanceOptions.PhaseSteps"/> steps, looping
/// back to the first after the last (as nerdyrodent's generate.py does).
/// </summary>
public sealed class PromptScript
{
    public PromptScript(string source, IReadOnlyList<IReadOnlyList<PromptSpec>> phases)
    {
        if (phases.Count == 0 || phases.Any(p => p.Count == 0))
            throw new ArgumentException("A prompt script needs at least one phase, each with at least one prompt.", nameof(phases));
        Source = source;
        Phases = phases;
    }

    /// <summary>Builds a one-phase script from prompts made in code.</summary>
    public static PromptScript Of(params PromptSpec[] prompts) =>
        new(string.Join("|", prompts.Select(p => p.ToString())), new[] { (IReadOnlyList<PromptSpec>)prompts.ToArray() });

    /// <summary>The text it was parsed from (or an equivalent one for scripts built in code).</summary>
    public string Source { get; }

    public IReadOnlyList<IReadOnlyList<PromptSpec>> Phases { get; }

    /// <summary>Every prompt of every phase, in order.</summary>
    public IEnumerable<PromptSpec> All => Phases.SelectMany(p => p);

    /// <summary>The phase active at <paramref name="step"/> when phases switch every <paramref name="phaseSteps"/> steps (0: never switch).</summary>
    public int PhaseAt(int step, int phaseSteps) =>
        Phases.Count == 1 || phaseSteps <= 0 ? 0 : (step / phaseSteps) % Phases.Count;

    public override string ToString() => Source;
}
