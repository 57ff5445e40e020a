namespace VqganClip.Guidance;

/// <summary>A picture size whose guidance step would need more memory than is available; says the largest that fits.</summary>
public sealed class PictureTooLargeException(string message, int largestSide) : ArgumentException(message)
{
    /// <summary>The side of the largest square picture that fits (0: not even the smallest one).</summary>
    public int LargestSide { get; } = largestSide;
}
