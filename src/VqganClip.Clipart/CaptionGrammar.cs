namespace VqganClip.Clipart;

/// <summary>
/// The phrase tables shared by <see cref="CaptionWriter"/> and <see cref="CaptionParser"/>, so
/// that every phrase the writer may use is one the parser reads. The first phrase of each list
/// is the canonical one.
/// </summary>
public static class CaptionGrammar
{
    public static readonly IReadOnlyDictionary<ScenePosition, string[]> PositionPhrases = new Dictionary<ScenePosition, string[]>
    {
        [ScenePosition.Left] = ["on the left"],
        [ScenePosition.Right] = ["on the right"],
        [ScenePosition.Top] = ["at the top"],
        [ScenePosition.Bottom] = ["at the bottom"],
        [ScenePosition.Middle] = ["in the middle", "in the center", "in the centre"],
    };

    public static readonly IReadOnlyDictionary<SpatialRelation, string[]> RelationPhrases = new Dictionary<SpatialRelation, string[]>
    {
        [SpatialRelation.Above] = ["above", "over"],
        [SpatialRelation.Below] = ["below", "under", "beneath"],
        [SpatialRelation.LeftOf] = ["to the left of", "left of"],
        [SpatialRelation.RightOf] = ["to the right of", "right of"],
    };

    /// <summary>Complete background phrases ("a red circle at night").</summary>
    public static readonly IReadOnlyDictionary<SceneBackground, string[]> BackgroundPhrases = new Dictionary<SceneBackground, string[]>
    {
        [SceneBackground.White] = ["on a white background", "on white", "against a white background"],
        [SceneBackground.Sky] = ["in the sky", "against a blue sky", "in a blue sky"],
        [SceneBackground.Night] = ["at night", "in the night sky", "against a night sky"],
        [SceneBackground.Grass] = ["on grass", "on the grass", "on a lawn"],
        [SceneBackground.Sand] = ["on sand", "on the sand", "on the beach", "on a sandy beach"],
    };

    /// <summary>Background noun phrases after a position and "of" ("in the middle of a white background").</summary>
    public static readonly IReadOnlyDictionary<SceneBackground, string[]> BackgroundNouns = new Dictionary<SceneBackground, string[]>
    {
        [SceneBackground.White] = ["a white background"],
        [SceneBackground.Sky] = ["the sky", "a blue sky"],
        [SceneBackground.Night] = ["the night sky", "a night sky"],
        [SceneBackground.Grass] = ["the grass", "a lawn"],
        [SceneBackground.Sand] = ["the beach", "the sand"],
    };

    public static readonly IReadOnlyDictionary<ObjectSize, string[]> SizeWords = new Dictionary<ObjectSize, string[]>
    {
        [ObjectSize.Small] = ["small", "little", "tiny"],
        [ObjectSize.Big] = ["big", "large"],
    };

    public static readonly IReadOnlyDictionary<ClipartColor, string[]> ColorWords =
        Vocabulary.Colors.ToDictionary(c => c, c => new[] { c.Word() });

    public static readonly IReadOnlyDictionary<ObjectKind, string[]> KindWords =
        Vocabulary.Kinds.ToDictionary(k => k, k => new[] { k.Word() });

    /// <summary>Optional openings ("a drawing of a red circle on the left").</summary>
    public static readonly string[] Prefixes = ["a drawing of", "a picture of", "an image of", "clipart of"];

    public static readonly string[] Articles = ["a", "an", "the"];

    public const string Conjunction = "and";
}
