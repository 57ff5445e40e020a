using VqganClip.Models.Images;
using static TorchSharp.torch;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// Colours a picture (an outline drawing) with a U-Net generator: [1, 3, H, W] in [0, 1] → resized to the side the
/// generator was trained at (<see cref="UnetGenerator.ImageSize"/>, stored by the toolkit's exports), else to H×W
/// rounded to a multiple of 2^num_downs → [-1, 1] → G → [0, 1]. Grey or RGBA inputs arrive as RGB from ImageIO.
/// </summary>
public static class Pix2PixColouring
{
    public static Tensor Colour(UnetGenerator g, Tensor picture, bool trainMode = false, int? size = null)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(picture);
        if (picture.dim() != 4 || picture.shape[0] != 1 || picture.shape[1] != g.Config.InputNc)
            throw new ArgumentException($"Colour expects one picture [1, {g.Config.InputNc}, H, W], got [{string.Join(", ", picture.shape)}].", nameof(picture));
        int m = g.Config.SideMultiple;
        int Round(long side) => (int)Math.Max(m, (side + m / 2) / m * m);
        int width, height;
        if (size is int s)
        {
            if (s % m != 0 || s <= 0) throw new ArgumentException($"--size must be a positive multiple of {m} for this generator (num_downs {g.Config.NumDowns}), got {s}.");
            (width, height) = (s, s);
        }
        else if (g.ImageSize is int trained) (width, height) = (trained, trained);
        else (width, height) = (Round(picture.shape[3]), Round(picture.shape[2]));

        using var scope = NewDisposeScope();
        var input = picture.shape[3] == width && picture.shape[2] == height ? picture : ImageIO.Resize(picture, width, height).clamp(0, 1);
        var output = g.Generate(input * 2 - 1, trainMode);
        return ((output + 1) / 2).clamp(0, 1).MoveToOuterDisposeScope();
    }
}
