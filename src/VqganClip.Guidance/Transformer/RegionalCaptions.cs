using System.Text.RegularExpressions;

namespace VqganClip.Guidance;

/// <summary>How a two-region split divides the token grid.</summary>
public enum RegionAxis
{
    /// <summary>Upper rows, then lower rows (a relation "above" or "below").</summary>
    Rows,
    /// <summary>Left columns, then right columns, in every row ("to the left of", "to the right of").</summary>
    Columns,
}

/// <summary>
/// A caption of two things in a spatial relation split into one caption per half of the picture, for sampling by
/// halves with a caption-conditioned transformer (<see cref="TransformerSettings.Regional"/>): "a red circle above a
/// blue square on grass" becomes "a red circle at the top on grass" for the upper rows and "a blue square at the
/// bottom on grass" for the lower ones. A GPT that draws one object well from its caption draws each half's object
/// in its own samples; the pipeline joins the halves in token space and ranks the joins against the whole prompt.
/// <para>
/// The split reads English: the first relation phrase (<see cref="RelationPhrases"/>) divides the caption; the second
/// thing ends where a scene phrase begins ("on", "in", "at" or "against"), and that scene phrase is given to both
/// halves. Captions it cannot read that way are not split (<see cref="Split"/> returns null): no relation phrase, a
/// second relation phrase (three things), or a first thing that already says where it is ("a red circle on the left
/// above ...").
/// </para>
/// </summary>
/// <param name="First">The caption of the upper (<see cref="RegionAxis.Rows"/>) or left (<see cref="RegionAxis.Columns"/>) half.</param>
/// <param name="Second">The caption of the lower or right half.</param>
/// <param name="Axis">Which way the grid is divided.</param>
public sealed partial record RegionalCaptions(string First, string Second, RegionAxis Axis)
{
    /// <summary>The relation phrases the split reads, longest first, each with where it puts the first thing.</summary>
    public static IReadOnlyList<(string Phrase, RegionAxis Axis, bool FirstThingFirst)> RelationPhrases { get; } =
    [
        ("to the left of", RegionAxis.Columns, true),
        ("to the right of", RegionAxis.Columns, false),
        ("left of", RegionAxis.Columns, true),
        ("right of", RegionAxis.Columns, false),
        ("above", RegionAxis.Rows, true),
        ("over", RegionAxis.Rows, true),
        ("below", RegionAxis.Rows, false),
        ("under", RegionAxis.Rows, false),
        ("beneath", RegionAxis.Rows, false),
    ];

    /// <summary>The two captions, upper or left first.</summary>
    public IReadOnlyList<string> Captions => [First, Second];

    /// <summary>
    /// Splits <paramref name="caption"/> (see the class summary); null when it is not two things in one relation.
    /// </summary>
    public static RegionalCaptions? Split(string? caption)
    {
        if (string.IsNullOrWhiteSpace(caption)) return null;
        string text = Spaces().Replace(caption.Trim().TrimEnd('.', '!', ';', ','), " ");
        var found = RelationPhrases
            .Select(r => (r.Phrase, r.Axis, r.FirstThingFirst, Match: Regex.Match(text, $@"\s{Regex.Escape(r.Phrase)}\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)))
            .Where(r => r.Match.Success)
            .OrderBy(r => r.Match.Index).ThenByDescending(r => r.Phrase.Length)
            .FirstOrDefault();
        if (found.Match is null) return null;
        string first = text[..found.Match.Index].Trim();
        string rest = text[(found.Match.Index + found.Match.Length)..].Trim();
        if (first.Length == 0 || rest.Length == 0) return null;
        // a first thing that places itself, or a third thing, is more than one relation between two things
        if (ScenePhraseStart().IsMatch(first)) return null;
        if (RelationPhrases.Any(r => Regex.IsMatch($" {rest} ", $@"\s{Regex.Escape(r.Phrase)}\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)))
            return null;
        var scene = ScenePhraseStart().Match(rest);
        string second = scene.Success ? rest[..scene.Index].Trim() : rest;
        string suffix = scene.Success ? " " + rest[scene.Index..].Trim() : "";
        if (second.Length == 0) return null;

        var (upperOrLeft, lowerOrRight) = found.FirstThingFirst ? (first, second) : (second, first);
        var (near, far) = found.Axis == RegionAxis.Rows ? ("at the top", "at the bottom") : ("on the left", "on the right");
        return new RegionalCaptions($"{upperOrLeft} {near}{suffix}", $"{lowerOrRight} {far}{suffix}", found.Axis);
    }

    /// <summary>
    /// Which caption chooses each token of a <paramref name="gridHeight"/>×<paramref name="gridWidth"/> grid, in raster
    /// order: 0 (<see cref="First"/>) for the upper rows or left columns (the first half, rounded down), 1 for the rest.
    /// </summary>
    /// <exception cref="ArgumentException">A grid with fewer than 2 rows (or columns) to divide.</exception>
    public int[] RegionOfTokens(int gridHeight, int gridWidth)
    {
        int divided = Axis == RegionAxis.Rows ? gridHeight : gridWidth;
        if (gridHeight < 1 || gridWidth < 1 || divided < 2)
            throw new ArgumentException($"A {gridHeight}x{gridWidth} token grid has no two halves of {(Axis == RegionAxis.Rows ? "rows" : "columns")} to give the captions '{First}' and '{Second}'.");
        int half = divided / 2;
        var map = new int[gridHeight * gridWidth];
        for (int t = 0; t < map.Length; t++)
        {
            int at = Axis == RegionAxis.Rows ? t / gridWidth : t % gridWidth;
            map[t] = at < half ? 0 : 1;
        }
        return map;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>Where a scene or place phrase begins: "on", "in", "at" or "against" as a word.</summary>
    [GeneratedRegex(@"\b(on|in|at|against)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ScenePhraseStart();
}
