namespace VqganClip.Clipart;

/// <summary>
/// Where the words put things, as fractions of the canvas side. The judge's regions
/// (left = centroid x &lt; 0.4, middle = within 0.15 of the centre, ...) are set with margin
/// around these spots plus the sampler's jitter.
/// </summary>
public static class SceneLayout
{
    /// <summary>Canvas side in pixels of every clipart scene.</summary>
    public const int Size = 64;

    public const float SmallExtent = 0.27f;
    public const float BigExtent = 0.47f;

    /// <summary>Distance of a left/right/top/bottom centre from the near edge.</summary>
    public const float SideOffset = 0.26f;

    public static float ExtentOf(ObjectSize size) => size == ObjectSize.Big ? BigExtent : SmallExtent;

    public static (float X, float Y) CenterOf(ScenePosition position) => position switch
    {
        ScenePosition.Left => (SideOffset, 0.5f),
        ScenePosition.Right => (1f - SideOffset, 0.5f),
        ScenePosition.Top => (0.5f, SideOffset),
        ScenePosition.Bottom => (0.5f, 1f - SideOffset),
        _ => (0.5f, 0.5f),
    };

    /// <summary>The positions of the first and second object of a pair in this relation.</summary>
    public static (ScenePosition First, ScenePosition Second) PositionsOf(SpatialRelation relation) => relation switch
    {
        SpatialRelation.Above => (ScenePosition.Top, ScenePosition.Bottom),
        SpatialRelation.Below => (ScenePosition.Bottom, ScenePosition.Top),
        SpatialRelation.LeftOf => (ScenePosition.Left, ScenePosition.Right),
        _ => (ScenePosition.Right, ScenePosition.Left),
    };
}
