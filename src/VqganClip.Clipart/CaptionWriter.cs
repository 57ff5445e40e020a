using System.Text;

namespace VqganClip.Clipart;

/// <summary>
/// Describes a scene in plain English from <see cref="CaptionGrammar"/>, with variety: sizes and
/// the background are sometimes left out, synonyms vary, a pair is said from either object's side
/// ("A above B" / "B below A") or by positions ("A at the top and B at the bottom"). Every caption
/// parses back (<see cref="CaptionParser"/>) to claims the scene satisfies.
/// </summary>
public static class CaptionWriter
{
    public static string Caption(SceneSpec spec, Random random)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(random);
        var words = new List<string>();
        if (random.NextDouble() < 0.08)
            words.Add(Pick(random, CaptionGrammar.Prefixes));

        bool withBackground = random.NextDouble() < 0.6;
        bool backgroundSaid = false;

        if (spec.Objects.Count == 1)
        {
            var o = spec.Objects[0];
            words.Add(NounPhrase(o, random));
            words.Add(Pick(random, CaptionGrammar.PositionPhrases[o.Position]));
            if (withBackground && o.Position == ScenePosition.Middle && random.NextDouble() < 0.3)
            {
                words.Add("of " + Pick(random, CaptionGrammar.BackgroundNouns[spec.Background]));
                backgroundSaid = true;
            }
        }
        else
        {
            var (a, b) = random.NextDouble() < 0.5 ? (spec.Objects[0], spec.Objects[1]) : (spec.Objects[1], spec.Objects[0]);
            if (random.NextDouble() < 0.75)
            {
                var relation = ReferenceEquals(a, spec.Objects[0]) ? spec.Relation!.Value : spec.Relation!.Value.Inverse();
                words.Add(NounPhrase(a, random));
                words.Add(Pick(random, CaptionGrammar.RelationPhrases[relation]));
                words.Add(NounPhrase(b, random));
            }
            else
            {
                words.Add(NounPhrase(a, random));
                words.Add(Pick(random, CaptionGrammar.PositionPhrases[a.Position]));
                words.Add(CaptionGrammar.Conjunction);
                words.Add(NounPhrase(b, random));
                words.Add(Pick(random, CaptionGrammar.PositionPhrases[b.Position]));
            }
        }

        if (withBackground && !backgroundSaid)
            words.Add(Pick(random, CaptionGrammar.BackgroundPhrases[spec.Background]));
        return string.Join(' ', words);
    }

    /// <summary>"a big red circle", "an orange star": article, optional size, colour, kind.</summary>
    private static string NounPhrase(SceneObject o, Random random)
    {
        var sb = new StringBuilder();
        if (random.NextDouble() < 0.6)
            sb.Append(Pick(random, CaptionGrammar.SizeWords[o.Size])).Append(' ');
        sb.Append(o.Color.Word()).Append(' ').Append(o.Kind.Word());
        var rest = sb.ToString();
        return ("aeiou".Contains(rest[0]) ? "an " : "a ") + rest;
    }

    private static string Pick(Random random, string[] options) => options[random.Next(options.Length)];
}
