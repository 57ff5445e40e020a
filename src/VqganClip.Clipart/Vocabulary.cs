namespace VqganClip.Clipart;

// The closed vocabulary of the clipart world. The enum order is part of the trained judge
// classifier's contract (output index = (int)ObjectKind): append, never reorder.

public enum ObjectKind { Circle, Square, Triangle, Star, Heart, Sun, Moon, Tree, House, Cloud, Flower, Boat }

public enum ClipartColor { Red, Orange, Yellow, Green, Blue, Purple, Pink, White, Black, Brown }

public enum ObjectSize { Small, Big }

public enum ScenePosition { Left, Right, Top, Bottom, Middle }

/// <summary>How the first object of a two-object scene stands to the second.</summary>
public enum SpatialRelation { Above, Below, LeftOf, RightOf }

public enum SceneBackground { White, Sky, Night, Grass, Sand }

public static class Vocabulary
{
    public static readonly ObjectKind[] Kinds = Enum.GetValues<ObjectKind>();
    public static readonly ClipartColor[] Colors = Enum.GetValues<ClipartColor>();
    public static readonly ObjectSize[] Sizes = Enum.GetValues<ObjectSize>();
    public static readonly ScenePosition[] Positions = Enum.GetValues<ScenePosition>();
    public static readonly SpatialRelation[] Relations = Enum.GetValues<SpatialRelation>();
    public static readonly SceneBackground[] Backgrounds = Enum.GetValues<SceneBackground>();

    public static string Word(this ObjectKind kind) => kind.ToString().ToLowerInvariant();
    public static string Word(this ClipartColor color) => color.ToString().ToLowerInvariant();
    public static string Word(this ObjectSize size) => size == ObjectSize.Big ? "big" : "small";

    public static string Phrase(this ScenePosition position) => position switch
    {
        ScenePosition.Left => "on the left",
        ScenePosition.Right => "on the right",
        ScenePosition.Top => "at the top",
        ScenePosition.Bottom => "at the bottom",
        _ => "in the middle",
    };

    public static string Phrase(this SpatialRelation relation) => relation switch
    {
        SpatialRelation.Above => "above",
        SpatialRelation.Below => "below",
        SpatialRelation.LeftOf => "to the left of",
        _ => "to the right of",
    };

    /// <summary>The same fact said from the other object's side: A above B == B below A.</summary>
    public static SpatialRelation Inverse(this SpatialRelation relation) => relation switch
    {
        SpatialRelation.Above => SpatialRelation.Below,
        SpatialRelation.Below => SpatialRelation.Above,
        SpatialRelation.LeftOf => SpatialRelation.RightOf,
        _ => SpatialRelation.LeftOf,
    };
}
