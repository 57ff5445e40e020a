namespace VqganClip.Guidance.Cutouts;

/// <summary>A square crop of the picture: top-left corner (<see cref="X"/>, <see cref="Y"/>) and side <see cref="Size"/>, in pixels.</summary>
public readonly record struct CutoutBox(int X, int Y, int Size)
{
    /// <summary>
    /// The affine map from a cutout's normalised output coordinates (u, v in [-1,1], pixel centres at (2j+1)/S−1)
    /// to the picture's continuous pixel coordinates (pixel i spans [i, i+1)), as a row-major 3×3 matrix.
    /// </summary>
    public double[,] ToMatrix() => new double[,]
    {
        { Size / 2.0, 0, X + Size / 2.0 },
        { 0, Size / 2.0, Y + Size / 2.0 },
        { 0, 0, 1 },
    };
}
