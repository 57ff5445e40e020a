namespace VqganClip.Clipart.Judge;

/// <summary>
/// Captions an image from what the judge's colour analysis sees, for grading images that come with no caption (a
/// GAN's samples): the background estimated from the border (<see cref="ColorAnalysis"/>), the objects = the palette
/// colours whose regions the judge would call present (interior mass and fill above the judge's thresholds), largest
/// first, each with the kind the judge's classifier gives its crop. The caption claims colour and kind of each object
/// and the background ("a red circle and a blue star, background sky"); <see cref="IsValidScene"/> then asks the judge
/// whether the image satisfies it (which also checks that the rest of the image is that background) and whether it
/// holds 1 or 2 objects, as every scene of the clipart world does. Two objects of one colour read as one region.
/// </summary>
public static class SceneReader
{
    /// <summary>What the reader saw: the objects largest first (all of them, not capped at two), the background, and the caption (null when no object).</summary>
    public sealed record Reading(IReadOnlyList<ObjectClaim> Objects, SceneBackground Background, CaptionSpec? Caption);

    public static Reading Read(float[] planarRgb, SceneJudge judge)
    {
        ArgumentNullException.ThrowIfNull(judge);
        var settings = judge.Settings;
        var analysis = ColorAnalysis.Analyze(planarRgb, null, settings);
        var present = new List<(ClipartColor Color, ColorRegion Region)>();
        foreach (var color in Vocabulary.Colors)
        {
            var region = analysis.Region(color);
            if (region.CoreMass >= settings.MinCoreMass && region.Fill >= settings.MinFill) present.Add((color, region));
        }
        present.Sort((a, b) => b.Region.PixelCount.CompareTo(a.Region.PixelCount));
        var kinds = new ObjectKind[present.Count];
        if (present.Count > 0 && judge.Classifier is { } classifier)
        {
            var probabilities = classifier.Probabilities(present.Select(p => ObjectCrop.Extract(analysis, p.Region)).ToList());
            for (int i = 0; i < present.Count; i++)
                kinds[i] = (ObjectKind)Array.IndexOf(probabilities[i], probabilities[i].Max());
        }
        var objects = present.Select((p, i) => new ObjectClaim(kinds[i], p.Color)).ToList();
        CaptionSpec? caption = null;
        if (objects.Count > 0)
        {
            var claimed = objects.Take(2).ToList();
            string text = string.Join(" and ", claimed.Select(o => $"a {o.Color!.Value.Word()} {o.Kind.Word()}")) + $", background {analysis.Background.ToString().ToLowerInvariant()}";
            caption = new CaptionSpec(text, claimed, null, analysis.Background);
        }
        return new Reading(objects, analysis.Background, caption);
    }

    /// <summary>
    /// A valid scene: 1 or 2 objects read, and the judge accepts the reading's caption for the image (colours present,
    /// kinds as claimed, the rest background). Needs a judge with its kind classifier (else kinds go unchecked).
    /// </summary>
    public static (bool Valid, Reading Reading) IsValidScene(float[] planarRgb, SceneJudge judge)
    {
        var reading = Read(planarRgb, judge);
        bool valid = reading.Caption is { } caption && reading.Objects.Count <= 2 && judge.Judge(planarRgb, caption).Satisfied;
        return (valid, reading);
    }
}
