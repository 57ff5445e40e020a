namespace VqganClip.Clipart;

/// <summary>
/// One drawn object. The words (kind, colour, size, position) say what a caption may assert;
/// the layout numbers (centre and extent as fractions of the canvas side, rotation in degrees)
/// say exactly where it is drawn, so rendering is a pure function of the spec.
/// </summary>
public sealed record SceneObject(
    ObjectKind Kind,
    ClipartColor Color,
    ObjectSize Size,
    ScenePosition Position,
    float CenterX,
    float CenterY,
    float Extent,
    float RotationDegrees = 0f)
{
    /// <summary>An object at the canonical spot for its position and size (no jitter).</summary>
    public static SceneObject Canonical(ObjectKind kind, ClipartColor color, ObjectSize size, ScenePosition position)
    {
        var (x, y) = SceneLayout.CenterOf(position);
        return new SceneObject(kind, color, size, position, x, y, SceneLayout.ExtentOf(size));
    }
}

/// <summary>
/// A whole scene: one object, or two objects standing in <see cref="Relation"/>
/// (Objects[0] is <see cref="Relation"/> Objects[1]), on a background.
/// </summary>
public sealed record SceneSpec
{
    public SceneSpec(IReadOnlyList<SceneObject> objects, SpatialRelation? relation, SceneBackground background)
    {
        ArgumentNullException.ThrowIfNull(objects);
        if (objects.Count is < 1 or > 2)
            throw new ArgumentException($"A scene holds one or two objects, not {objects.Count}.", nameof(objects));
        if ((objects.Count == 2) != relation.HasValue)
            throw new ArgumentException(objects.Count == 2
                ? "A two-object scene needs a relation between its objects."
                : "A one-object scene cannot have a relation.", nameof(relation));
        Objects = objects.ToArray();
        Relation = relation;
        Background = background;
    }

    public IReadOnlyList<SceneObject> Objects { get; }
    public SpatialRelation? Relation { get; }
    public SceneBackground Background { get; }

    public static SceneSpec Single(ObjectKind kind, ClipartColor color, ObjectSize size, ScenePosition position,
        SceneBackground background = SceneBackground.White) =>
        new([SceneObject.Canonical(kind, color, size, position)], null, background);

    /// <summary>This scene with each object at its place's canonical spot and size, upright (the sampler's jitter dropped).</summary>
    public SceneSpec Canonical() =>
        new(Objects.Select(o => SceneObject.Canonical(o.Kind, o.Color, o.Size, o.Position)).ToArray(), Relation, Background);

    /// <summary>Two objects at the canonical spots their relation implies (A above B: A at the top, B at the bottom).</summary>
    public static SceneSpec Pair(
        (ObjectKind Kind, ClipartColor Color, ObjectSize Size) first,
        SpatialRelation relation,
        (ObjectKind Kind, ClipartColor Color, ObjectSize Size) second,
        SceneBackground background = SceneBackground.White)
    {
        var (p1, p2) = SceneLayout.PositionsOf(relation);
        return new SceneSpec(
            [SceneObject.Canonical(first.Kind, first.Color, first.Size, p1),
             SceneObject.Canonical(second.Kind, second.Color, second.Size, p2)],
            relation, background);
    }

    public bool Equals(SceneSpec? other) =>
        other is not null && Relation == other.Relation && Background == other.Background &&
        Objects.SequenceEqual(other.Objects);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Relation);
        h.Add(Background);
        foreach (var o in Objects) h.Add(o);
        return h.ToHashCode();
    }

    public override string ToString() =>
        $"SceneSpec {{ {string.Join(Relation is { } r ? $" {r} " : "", Objects.Select(o => $"{o.Size} {o.Color} {o.Kind} {o.Position} @({o.CenterX:0.###},{o.CenterY:0.###}) extent {o.Extent:0.###} rot {o.RotationDegrees:0.#}"))} on {Background} }}";
}
