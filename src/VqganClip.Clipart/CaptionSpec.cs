namespace VqganClip.Clipart;

/// <summary>What a caption says about one object; null = not said.</summary>
public sealed record ObjectClaim(ObjectKind Kind, ClipartColor? Color = null, ObjectSize? Size = null, ScenePosition? Position = null)
{
    public override string ToString() =>
        string.Join(' ', new[] { Size?.Word(), Color?.Word(), Kind.Word(), Position?.Phrase() }.Where(w => w is not null));
}

/// <summary>
/// What a caption or prompt asserts (the parse of <see cref="Text"/>): one or two object claims,
/// optionally a relation (Objects[0] is <see cref="Relation"/> Objects[1]), optionally a background.
/// </summary>
public sealed record CaptionSpec
{
    public CaptionSpec(string text, IReadOnlyList<ObjectClaim> objects, SpatialRelation? relation, SceneBackground? background)
    {
        ArgumentNullException.ThrowIfNull(objects);
        if (objects.Count is < 1 or > 2)
            throw new ArgumentException($"A caption claims one or two objects, not {objects.Count}.", nameof(objects));
        if (relation.HasValue && objects.Count != 2)
            throw new ArgumentException("A relation needs two objects.", nameof(relation));
        Text = text;
        Objects = objects.ToArray();
        Relation = relation;
        Background = background;
    }

    public string Text { get; }
    public IReadOnlyList<ObjectClaim> Objects { get; }
    public SpatialRelation? Relation { get; }
    public SceneBackground? Background { get; }

    /// <summary>
    /// Where the caption disagrees with a scene (empty = every asserted attribute holds). Claims
    /// are matched to the scene's objects by colour, then by kind.
    /// </summary>
    public IReadOnlyList<string> Disagreements(SceneSpec scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var problems = new List<string>();
        if (Objects.Count != scene.Objects.Count)
            problems.Add($"caption claims {Objects.Count} object(s), scene has {scene.Objects.Count}");
        if (Background is { } bg && bg != scene.Background)
            problems.Add($"background {bg} but scene is on {scene.Background}");

        var matched = new SceneObject?[Objects.Count];
        var used = new HashSet<SceneObject>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < Objects.Count; i++)
        {
            var claim = Objects[i];
            var o = scene.Objects.FirstOrDefault(s => !used.Contains(s) && s.Color == claim.Color && s.Kind == claim.Kind)
                 ?? scene.Objects.FirstOrDefault(s => !used.Contains(s) && claim.Color is null && s.Kind == claim.Kind);
            if (o is null)
            {
                problems.Add($"no {claim.Color?.Word()} {claim.Kind.Word()} in the scene".Replace("  ", " "));
                continue;
            }
            used.Add(o);
            matched[i] = o;
            if (claim.Size is { } size && size != o.Size) problems.Add($"{claim}: drawn {o.Size}");
            if (claim.Position is { } pos && pos != o.Position) problems.Add($"{claim}: drawn {o.Position}");
        }

        if (Relation is { } rel && matched[0] is { } a && matched[1] is { } b)
        {
            var (pa, pb) = SceneLayout.PositionsOf(rel);
            if (a.Position != pa || b.Position != pb)
                problems.Add($"{Objects[0]} {rel.Phrase()} {Objects[1]}: drawn {a.Position} and {b.Position}");
        }
        return problems;
    }

    /// <summary>
    /// The canonical scene this caption describes (no jitter), filling what it leaves unsaid:
    /// big, the first colour that does not clash, in the middle (or the sides a pair implies), white background.
    /// </summary>
    public SceneSpec ToSceneSpec()
    {
        var background = Background ?? SceneBackground.White;
        var used = new HashSet<ClipartColor>(Objects.Where(o => o.Color.HasValue).Select(o => o.Color!.Value));
        ClipartColor ColorFor(ObjectClaim c)
        {
            if (c.Color is { } col) return col;
            var pick = Vocabulary.Colors.First(x => !used.Contains(x) && !Palette.Clashes(x, background));
            used.Add(pick);
            return pick;
        }

        if (Objects.Count == 1)
        {
            var c = Objects[0];
            return SceneSpec.Single(c.Kind, ColorFor(c), c.Size ?? ObjectSize.Big, c.Position ?? ScenePosition.Middle, background);
        }

        var relation = Relation ?? RelationFromPositions(Objects[0].Position, Objects[1].Position);
        var first = Objects[0];
        var second = Objects[1];
        return SceneSpec.Pair(
            (first.Kind, ColorFor(first), first.Size ?? ObjectSize.Big), relation,
            (second.Kind, ColorFor(second), second.Size ?? ObjectSize.Big), background);
    }

    private static SpatialRelation RelationFromPositions(ScenePosition? a, ScenePosition? b)
    {
        var (ax, ay) = SceneLayout.CenterOf(a ?? ScenePosition.Left);
        var (bx, by) = SceneLayout.CenterOf(b ?? (a == ScenePosition.Right ? ScenePosition.Left : ScenePosition.Right));
        return Math.Abs(ax - bx) >= Math.Abs(ay - by)
            ? (ax <= bx ? SpatialRelation.LeftOf : SpatialRelation.RightOf)
            : (ay <= by ? SpatialRelation.Above : SpatialRelation.Below);
    }

    public override string ToString() =>
        $"\"{Text}\" => {Objects[0]}{(Objects.Count == 2 ? (Relation is { } r ? $" {r.Phrase()} " : " and ") + Objects[1] : "")}{(Background is { } bg ? $" [{bg}]" : "")}";
}
