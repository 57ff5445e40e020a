namespace VqganClip.Clipart.Eval;

/// <summary>
/// The fixed evaluation prompts, all from the clipart grammar: single objects with colour and
/// position (some with size), pairs in a relation, and prompts with a background. Never
/// reorder or edit: reports are compared across runs by prompt. White objects only appear with a
/// background that shows them.
/// </summary>
public static class EvalPrompts
{
    public static IReadOnlyList<string> Fixed { get; } =
    [
        // One object, colour and position.
        "a red circle on the left",
        "a blue square on the right",
        "a yellow star at the top",
        "a green triangle at the bottom",
        "a purple heart in the middle",
        "an orange sun at the top",
        "a pink flower on the left",
        "a brown boat at the bottom",
        "a black house on the right",
        "a green tree on the left",
        "a blue cloud at the top",
        "a red moon on the right",
        "a big yellow sun in the middle",
        "a small red heart on the right",
        "a big purple square at the bottom",
        "a small orange star on the left",
        "a big black circle at the top",
        "a small brown tree in the middle",
        // Two objects in a relation.
        "a red circle above a blue square",
        "a yellow star below a purple moon",
        "a green tree to the left of a brown house",
        "a pink heart to the right of a black circle",
        "an orange sun above a blue boat",
        "a purple flower to the left of a yellow triangle",
        "a black moon above a red heart",
        "a blue star to the right of an orange square",
        "a brown boat below a pink cloud",
        "a red house to the left of a green tree",
        "a yellow circle above a black triangle",
        "a big blue heart below a small red star",
        "a purple sun to the right of a green flower",
        "an orange cloud to the left of a pink moon",
        // Backgrounds.
        "a yellow star in the night sky",
        "a white moon at the top at night",
        "a red boat on the beach",
        "a green tree on the left in the sky",
        "a yellow sun at the top in the sky",
        "a brown house on grass",
        "a pink flower on the grass",
        "a blue boat on sand",
        "a red heart in the middle of a white background",
        "an orange circle on the right on a white background",
        "a black cloud in the sky",
        "a white star above a yellow moon at night",
        "a red flower to the left of a blue flower on grass",
        "a green triangle at the bottom on sand",
        "a purple moon on the left at night",
        "a small white cloud at the top in the sky",
    ];

    /// <summary>
    /// The fixed prompts that name one object (with its colour, position or size, some with a background), in their
    /// order in <see cref="Fixed"/>: what a generator of single objects, such as a class-conditional BigGAN trained on
    /// single-object scenes, is graded on.
    /// </summary>
    public static IReadOnlyList<string> SingleObject { get; } = Fixed.Where(p => CaptionParser.Parse(p).Objects.Count == 1).ToList();

    /// <summary>A named prompt set: "all" (<see cref="Fixed"/>) or "single" (<see cref="SingleObject"/>).</summary>
    public static IReadOnlyList<string> Named(string name) => name.Trim().ToLowerInvariant() switch
    {
        "all" => Fixed,
        "single" => SingleObject,
        _ => throw new ArgumentException($"The prompt set '{name}' is not one of: all, single."),
    };
}
