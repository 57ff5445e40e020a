namespace VqganClip.Clipart;

/// <summary>
/// Draws random scenes, reproducibly: the same seed gives the same sequence of specs (and, through
/// <see cref="NextCaptioned"/>, captions) forever. Colours that would vanish on the background
/// are resampled; the two objects of a pair always have different colours (the judge tells them
/// apart by colour).
/// </summary>
public sealed class SceneSampler
{
    private readonly Random _random;
    private readonly double _pairFraction;

    /// <param name="seed">Seed of the System.Random behind every draw.</param>
    /// <param name="pairFraction">Probability that a scene has two objects instead of one.</param>
    public SceneSampler(int seed, double pairFraction = 0.4)
    {
        if (pairFraction is < 0 or > 1 || double.IsNaN(pairFraction))
            throw new ArgumentOutOfRangeException(nameof(pairFraction), pairFraction, "Must be a probability in [0,1].");
        _random = new Random(seed);
        _pairFraction = pairFraction;
    }

    /// <summary>The random source, shared with caption writing in <see cref="NextCaptioned"/>.</summary>
    public Random Random => _random;

    public SceneSpec Next()
    {
        var background = Pick(Vocabulary.Backgrounds);
        if (_random.NextDouble() >= _pairFraction)
        {
            var position = Pick(Vocabulary.Positions);
            return new SceneSpec([NextObject(position, background, exclude: null)], null, background);
        }

        var relation = Pick(Vocabulary.Relations);
        var (p1, p2) = SceneLayout.PositionsOf(relation);
        var first = NextObject(p1, background, exclude: null);
        var second = NextObject(p2, background, exclude: first.Color);
        return new SceneSpec([first, second], relation, background);
    }

    public (SceneSpec Spec, string Caption) NextCaptioned()
    {
        var spec = Next();
        return (spec, CaptionWriter.Caption(spec, _random));
    }

    public IEnumerable<SceneSpec> Sample(int count)
    {
        for (int i = 0; i < count; i++) yield return Next();
    }

    private SceneObject NextObject(ScenePosition position, SceneBackground background, ClipartColor? exclude)
    {
        var kind = Pick(Vocabulary.Kinds);
        ClipartColor color;
        do color = Pick(Vocabulary.Colors);
        while (color == exclude || Palette.Clashes(color, background));
        var size = Pick(Vocabulary.Sizes);

        // Jitter: a little along the axis the position word is about, a little more across it,
        // always well inside the judge's regions (see SceneLayout).
        var (x, y) = SceneLayout.CenterOf(position);
        switch (position)
        {
            case ScenePosition.Left or ScenePosition.Right:
                x += Jitter(0.03f); y += Jitter(0.05f); break;
            case ScenePosition.Top or ScenePosition.Bottom:
                x += Jitter(0.05f); y += Jitter(0.03f); break;
            default:
                x += Jitter(0.04f); y += Jitter(0.04f); break;
        }
        float extent = SceneLayout.ExtentOf(size) * (1f + Jitter(0.06f));
        float rotation = Jitter(10f);
        return new SceneObject(kind, color, size, position, x, y, extent, rotation);
    }

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    private float Jitter(float amplitude) => (float)(_random.NextDouble() * 2 - 1) * amplitude;
}
