using System.Text.RegularExpressions;

namespace VqganClip.Guidance;

/// <summary>The size a caption gives its thing.</summary>
public enum ThingSize
{
    /// <summary>No size word: drawn at the size the model draws it.</summary>
    Unsaid,
    /// <summary>"small", "little" or "tiny".</summary>
    Small,
    /// <summary>"big", "large" or "huge".</summary>
    Big,
}

/// <summary>
/// Where a one-thing caption puts its thing and how big it says it is, read from English words: the place phrase
/// ("on the left", "on the right", "at the top", "at the bottom"; anything else, the middle) as the centre of that
/// part of the picture, and the size word. The pipeline's composition in pictures
/// (<see cref="TransformerSettings.RegionalJoin"/>, <see cref="TransformerSettings.SmallScale"/>) shrinks a sample
/// about this centre, so the thing stays where the caption put it.
/// </summary>
public static partial class CaptionLayout
{
    /// <summary>
    /// The centre of the caption's place as fractions of the picture's width and height: the middle of the named half's
    /// outer half (a quarter from that edge), or (0.5, 0.5).
    /// </summary>
    public static (double X, double Y) PlaceOf(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        if (Left().IsMatch(caption)) return (0.25, 0.5);
        if (Right().IsMatch(caption)) return (0.75, 0.5);
        if (Top().IsMatch(caption)) return (0.5, 0.25);
        if (Bottom().IsMatch(caption)) return (0.5, 0.75);
        return (0.5, 0.5);
    }

    /// <summary>
    /// The caption with its place phrase (the one <see cref="PlaceOf"/> reads) said as "in the middle": what a GPT that
    /// draws in the middle (<see cref="SamplePlacement.Move"/>) is asked. A caption without one comes back unchanged.
    /// </summary>
    public static string InTheMiddle(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        foreach (var place in new[] { Left(), Right(), Top(), Bottom() })
            if (place.IsMatch(caption)) return place.Replace(caption, "in the middle", 1);
        return caption;
    }

    /// <summary>The size word of the caption (the first one), or <see cref="ThingSize.Unsaid"/>.</summary>
    public static ThingSize SizeOf(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var m = SizeWord().Match(caption);
        if (!m.Success) return ThingSize.Unsaid;
        return m.Groups["small"].Success ? ThingSize.Small : ThingSize.Big;
    }

    [GeneratedRegex(@"\b(on|to|at) the left\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Left();

    [GeneratedRegex(@"\b(on|to|at) the right\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Right();

    [GeneratedRegex(@"\b(at|on) the top\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Top();

    [GeneratedRegex(@"\b(at|on) the bottom\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Bottom();

    [GeneratedRegex(@"\b(?:(?<small>small|little|tiny)|(?<big>big|large|huge))\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizeWord();
}
