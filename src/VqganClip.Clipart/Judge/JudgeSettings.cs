namespace VqganClip.Clipart.Judge;

/// <summary>
/// The judge's thresholds. Defaults are set against the renderer's layout and jitter
/// (see <see cref="SceneLayout"/>) with margin; fractions are of the canvas side or area.
/// </summary>
public sealed record JudgeSettings
{
    /// <summary>A pixel belongs to the nearest palette/background colour when within this CIELAB ΔE of it.</summary>
    public float MatchDistance { get; init; } = 25f;

    /// <summary>Least fraction of the image the named colour must cover, counting only interior pixels (antialiased fringes do not count).</summary>
    public float MinCoreMass { get; init; } = 0.008f;

    /// <summary>Least fraction of its bounding box a colour region must fill (rejects thin fringes round another object).</summary>
    public float MinFill { get; init; } = 0.12f;

    /// <summary>"on the left" = centroid x below this; "on the right" = above 1 - this; same for top/bottom in y.</summary>
    public float SideLimit { get; init; } = 0.4f;

    /// <summary>"in the middle" = centroid within this of the centre on both axes.</summary>
    public float MiddleRadius { get; init; } = 0.15f;

    /// <summary>"A above B" = A's centroid higher than B's by at least this.</summary>
    public float RelationMargin { get; init; } = 0.08f;

    /// <summary>Objects whose equivalent extent (from their colour mass) is above this are big, below small.</summary>
    public float SizeSplit { get; init; } = MathF.Sqrt(SceneLayout.SmallExtent * SceneLayout.BigExtent);

    /// <summary>Least fraction of the uncovered pixels of a background area that must show the background's colour.</summary>
    public float MinBackgroundFraction { get; init; } = 0.6f;

    /// <summary>A kind claim holds when the classifier gives the claimed kind at least this probability, or ranks it first.</summary>
    public float MinKindProbability { get; init; } = 0.5f;

    public static JudgeSettings Default { get; } = new();
}
