using System.Text;
using VqganClip.Clipart.Judge;

namespace VqganClip.Clipart.Eval;

/// <summary>One prompt's outcome: the judge's verdict on what the generator made for it.</summary>
public sealed record EvalItem(string Prompt, Verdict Verdict, TimeSpan GenerateTime)
{
    public bool Satisfied => Verdict.Satisfied;
}

/// <summary>Per-prompt verdicts and the fraction of prompts whose image satisfied them.</summary>
public sealed record EvalReport(IReadOnlyList<EvalItem> Items, bool KindsChecked)
{
    public int Count => Items.Count;
    public int SatisfiedCount => Items.Count(i => i.Satisfied);
    public double SatisfiedFraction => Count == 0 ? double.NaN : SatisfiedCount / (double)Count;

    /// <summary>Satisfied prompts and prompts by how many objects the prompt names (one, then two), so a figure says
    /// whether the single things or the pairs moved.</summary>
    public IReadOnlyList<(int Objects, int Satisfied, int Count)> ByObjectCount =>
        Items.GroupBy(i => i.Verdict.Spec.Objects.Count).OrderBy(g => g.Key)
             .Select(g => (g.Key, g.Count(i => i.Satisfied), g.Count())).ToList();

    /// <summary>Prompts whose picture passes every check but the kinds (satisfied ones included): what a generator gets
    /// right when the judge's object classifier is left aside.</summary>
    public int SatisfiedButKindCount => Items.Count(i => i.Verdict.Failures.All(c => CheckKind(c.Name) == "kind"));

    /// <summary>"one object 25/32, two objects 6/16; every check but the kind 47/48".</summary>
    public string Breakdown() =>
        string.Join(", ", ByObjectCount.Select(b => $"{(b.Objects == 1 ? "one object" : "two objects")} {b.Satisfied}/{b.Count}")) +
        $"; every check but the kind {SatisfiedButKindCount}/{Count}";

    /// <summary>How often each kind of check failed ("colour", "position", "size", "kind", relation, background), over all prompts.</summary>
    public IReadOnlyDictionary<string, int> FailuresByCheck =>
        Items.SelectMany(i => i.Verdict.Failures)
             .GroupBy(c => CheckKind(c.Name))
             .OrderByDescending(g => g.Count())
             .ToDictionary(g => g.Key, g => g.Count());

    private static string CheckKind(string name)
    {
        int colon = name.LastIndexOf(": ", StringComparison.Ordinal);
        if (colon >= 0) return name[(colon + 2)..];
        return name.StartsWith("background", StringComparison.Ordinal) ? "background" : "relation";
    }

    /// <summary>A Markdown table of every prompt with its verdict, then the totals.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| prompt | satisfied | failed checks |");
        sb.AppendLine("|---|---|---|");
        foreach (var item in Items)
            sb.AppendLine($"| {item.Prompt} | {(item.Satisfied ? "yes" : "no")} | {(item.Satisfied ? "" : item.Verdict.Summary.Replace("|", "\\|"))} |");
        sb.AppendLine();
        sb.AppendLine($"Satisfied: {SatisfiedCount}/{Count} ({SatisfiedFraction:P1}){(KindsChecked ? "" : " — object kinds NOT checked (no classifier)")}");
        if (Count > 0) sb.AppendLine().AppendLine(Breakdown());
        return sb.ToString();
    }

    public override string ToString() => $"EvalReport {{ {SatisfiedCount}/{Count} satisfied ({SatisfiedFraction:P1}) }}";
}
