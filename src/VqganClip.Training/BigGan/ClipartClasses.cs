using VqganClip.Clipart;

namespace VqganClip.Training.BigGan;

/// <summary>
/// The classes of the clipart BigGAN: (kind, colour) of a one-object scene, class id = kind index · colours + colour
/// index over <see cref="Vocabulary.Kinds"/> and <see cref="Vocabulary.Colors"/> (12 · 10 = 120). Names are
/// "&lt;colour&gt; &lt;kind&gt;" ("red circle"); the judge's caption for a class is "a " + name.
/// </summary>
public static class ClipartClasses
{
    public static int Count => Vocabulary.Kinds.Length * Vocabulary.Colors.Length;

    public static int Id(ObjectKind kind, ClipartColor color) =>
        Array.IndexOf(Vocabulary.Kinds, kind) * Vocabulary.Colors.Length + Array.IndexOf(Vocabulary.Colors, color);

    public static (ObjectKind Kind, ClipartColor Color) Of(int classId)
    {
        if (classId < 0 || classId >= Count) throw new ArgumentOutOfRangeException(nameof(classId), $"Class id {classId} is outside 0..{Count - 1}.");
        return (Vocabulary.Kinds[classId / Vocabulary.Colors.Length], Vocabulary.Colors[classId % Vocabulary.Colors.Length]);
    }

    /// <summary>The kind index of each class id in a tensor ([B] int64 → [B] int64), as <see cref="Of"/> reads one.</summary>
    public static TorchSharp.torch.Tensor KindIndices(TorchSharp.torch.Tensor classIds) =>
        classIds.div(Vocabulary.Colors.Length, rounding_mode: TorchSharp.torch.RoundingMode.floor);

    /// <summary>The colour index of each class id in a tensor ([B] int64 → [B] int64), as <see cref="Of"/> reads one.</summary>
    public static TorchSharp.torch.Tensor ColourIndices(TorchSharp.torch.Tensor classIds) => classIds.remainder(Vocabulary.Colors.Length);

    // [colours · 3] in [0, 1], colour-index order: the palette as a table to gather from
    private static readonly float[] PaletteRgb = Vocabulary.Colors.SelectMany(c =>
    {
        var rgb = Palette.Of(c);
        return new[] { rgb.R / 255f, rgb.G / 255f, rgb.B / 255f };
    }).ToArray();

    /// <summary>Each class's palette colour in [0, 1] ([B] int64 class ids → [B, 3, 1, 1], to compare with pictures).</summary>
    public static TorchSharp.torch.Tensor PaletteColours(TorchSharp.torch.Tensor classIds) =>
        TorchSharp.torch.tensor(PaletteRgb).view(-1, 3).index_select(0, ColourIndices(classIds)).view(classIds.shape[0], 3, 1, 1);

    /// <summary>"red circle", ... in class-id order.</summary>
    public static string Name(int classId)
    {
        var (kind, color) = Of(classId);
        return $"{color.Word()} {kind.Word()}";
    }

    public static IReadOnlyList<string> Names() => Enumerable.Range(0, Count).Select(Name).ToArray();

    /// <summary>The judge's caption for a class: "a red circle".</summary>
    public static string Caption(int classId) => "a " + Name(classId);

    /// <summary>
    /// Training data of one step: <paramref name="count"/> one-object scenes of uniformly drawn classes, everything else
    /// (size, position, jitter, rotation, background) as <see cref="SceneSampler"/> draws it; a scene whose background
    /// would swallow the class's colour (<see cref="Palette.Clashes"/>) is redrawn. A pure function of (seed, step).
    /// </summary>
    public static (SceneSpec[] Specs, int[] ClassIds) Scenes(long runSeed, long step, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var sampler = new SceneSampler(ClipartBatches.StepSeed(runSeed, step), pairFraction: 0);
        var specs = new SceneSpec[count];
        var ids = new int[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = sampler.Random.Next(Count);
            specs[i] = SceneOf(ids[i], sampler);
        }
        return (specs, ids);
    }

    /// <summary>One random one-object scene of class <paramref name="classId"/>.</summary>
    public static SceneSpec SceneOf(int classId, SceneSampler sampler)
    {
        var (kind, color) = Of(classId);
        while (true)
        {
            var spec = sampler.Next();
            if (Palette.Clashes(color, spec.Background)) continue;
            return new SceneSpec([spec.Objects[0] with { Kind = kind, Color = color }], null, spec.Background);
        }
    }
}
