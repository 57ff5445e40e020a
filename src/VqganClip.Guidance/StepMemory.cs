using System.Globalization;
using VqganClip.Models.Vqgan;

namespace VqganClip.Guidance;

/// <summary>
/// The memory one guidance step needs for a generator at a picture size, checked before anything is allocated:
/// a picture too large for memory otherwise ends the process in the native allocator (a stack trace and a core
/// dump, no .NET exception). The estimate counts the generator's share, which is what grows with the size:
/// the VQGAN decoder's (<see cref="DecoderMemory"/>), or for the pixel-space generators the picture's copies.
/// The CLIP's share depends on the cutouts, whose count <see cref="GuidanceOptions.Validate"/> bounds.
/// </summary>
public static class StepMemory
{
    /// <summary>
    /// Copies of the 3 x H x W picture a step keeps besides the generator's own activations: the parameters, their
    /// gradient, the optimiser's two moments, the rendered picture and its gradient, and the cutouts' full-size
    /// intermediates (padding, augmentation) with theirs.
    /// </summary>
    private const double PictureCopies = 16;
    /// <summary>Tensors of strokes x pixels the stroke renderer keeps (distances, projections, coverage, compositing).</summary>
    private const double StrokeTensors = 16;

    /// <summary>Bytes of one step of <paramref name="generator"/> (a <see cref="Generators.GeneratorFactory"/> name) at width x height.</summary>
    public static double EstimateBytes(string generator, long width, long height, VqganModel? vqgan, int strokes)
    {
        double pixels = (double)width * height;
        double bytes = PictureCopies * 3 * pixels * 4;
        return generator.ToLowerInvariant() switch
        {
            "vqgan" when vqgan is not null => bytes + DecoderMemory.StepBytes(vqgan.Config.DdConfig, width, height),
            "strokes" => bytes + StrokeTensors * strokes * pixels * 4,
            _ => bytes,
        };
    }

    /// <summary>
    /// Throws a <see cref="PictureTooLargeException"/> when a step at width x height needs more than
    /// <paramref name="availableBytes"/>; its message says the largest square picture that fits.
    /// </summary>
    public static void EnsureFits(string generator, long width, long height, VqganModel? vqgan, int strokes, long availableBytes)
    {
        double need = EstimateBytes(generator, width, height, vqgan, strokes);
        if (need <= availableBytes) return;
        int largest = LargestSquareSide(generator, vqgan, strokes, availableBytes);
        throw new PictureTooLargeException(string.Create(CultureInfo.InvariantCulture,
            $"A {width}x{height} picture needs about {Format(need)} of memory for a step of the {generator} generator, and {Format(availableBytes)} is available: ") +
            (largest > 0
                ? string.Create(CultureInfo.InvariantCulture, $"the largest square picture that fits is about {largest}x{largest}.")
                : "not even a small picture fits; free some memory."), largest);
    }

    /// <summary>The largest side N (a multiple of 8) whose N x N step fits in <paramref name="availableBytes"/>, or 0.</summary>
    public static int LargestSquareSide(string generator, VqganModel? vqgan, int strokes, long availableBytes)
    {
        int low = 0, high = 1 << 17;   // in units of 8 pixels: up to a million pixels a side
        while (low < high)
        {
            int mid = (low + high + 1) / 2;
            if (EstimateBytes(generator, mid * 8L, mid * 8L, vqgan, strokes) <= availableBytes) low = mid; else high = mid - 1;
        }
        return low * 8;
    }

    /// <summary>"3.2 GB", "512 MB", "4.1 TB" (powers of 1024).</summary>
    public static string Format(double bytes)
    {
        string[] units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
        int u = 0;
        while (bytes >= 1024 && u < units.Length - 1) { bytes /= 1024; u++; }
        return bytes.ToString(u == 0 ? "F0" : "F1", CultureInfo.InvariantCulture) + " " + units[u];
    }
}
