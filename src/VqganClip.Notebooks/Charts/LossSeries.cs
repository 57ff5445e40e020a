namespace VqganClip.Notebooks.Charts;

/// <summary>One line of a loss chart: a name (a prompt's text, a regulariser, "total") and its values by step.</summary>
public sealed record LossSeries(string Name, IReadOnlyList<int> Steps, IReadOnlyList<double> Values)
{
    public LossSeries(string name, IEnumerable<(int Step, double Value)> points)
        : this(name, points.Select(p => p.Step).ToList(), points.Select(p => p.Value).ToList()) { }

    public double? Last => Values.Count == 0 ? null : Values[^1];
}
