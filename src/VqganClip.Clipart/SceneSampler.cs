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
        var (ax, ay) = CenterJitter(position);
        x += Jitter(ax);
        y += Jitter(ay);
        float extent = SceneLayout.ExtentOf(size) * (1f + Jitter(ExtentJitter));
        float rotation = Jitter(RotationJitter);
        return new SceneObject(kind, color, size, position, x, y, extent, rotation);
    }

    /// <summary>The largest shift of an object's centre (fractions of the canvas) in x and y for a position word.</summary>
    public static (float X, float Y) CenterJitter(ScenePosition position) => position switch
    {
        ScenePosition.Left or ScenePosition.Right => (0.03f, 0.05f),
        ScenePosition.Top or ScenePosition.Bottom => (0.05f, 0.03f),
        _ => (0.04f, 0.04f),
    };

    /// <summary>The largest relative change of an object's extent, and its largest rotation in degrees.</summary>
    public const float ExtentJitter = 0.06f, RotationJitter = 10f;

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    private float Jitter(float amplitude) => (float)(_random.NextDouble() * 2 - 1) * amplitude;
}
