using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// CLIP training views of 64x64 scenes, close to what the generator's cutouts show CLIP: with probability
/// <see cref="CropProbability"/> a random resized crop (area fraction in [<see cref="MinScale"/>, 1], aspect
/// ratio log-uniform in [3/4, 4/3], resampled bilinearly back to the full side), then a small brightness
/// change and pixel noise. No flips and no hue changes: left/right and colour words are what the captions say.
/// All randomness comes from the generator passed in (seeded per step by the trainer).
/// </summary>
public sealed record ClipAugment
{
    public double CropProbability { get; init; } = 0.8;
    public double MinScale { get; init; } = 0.5;
    public double BrightnessJitter { get; init; } = 0.05;
    public double NoiseStd { get; init; } = 0.02;

    /// <summary>Augmented copies of <paramref name="images01"/> [N, 3, H, W] in [0, 1], same shape.</summary>
    public Tensor Apply(Tensor images01, Generator generator)
    {
        if (images01.dim() != 4 || images01.shape[1] != 3)
            throw new ArgumentException($"ClipAugment expects images [N, 3, H, W], got [{string.Join(", ", images01.shape)}].", nameof(images01));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long n = images01.shape[0];
        var u = rand(n, 5, generator: generator);   // crop?, area, log-aspect, x, y
        var crop = u[.., 0] < CropProbability;
        var area = MinScale + (1 - MinScale) * u[.., 1];
        var logRatio = (u[.., 2] * 2 - 1) * Math.Log(4.0 / 3.0);
        var ratio = logRatio.exp();
        // Crop width/height as fractions of the side; an uncropped view is the identity (1, 1).
        var w = where(crop, (area * ratio).sqrt().clamp_max(1), ones_like(area));
        var h = where(crop, (area / ratio).sqrt().clamp_max(1), ones_like(area));
        // affine_grid works in [-1, 1] coordinates: the crop centre may move by (1 - size).
        var cx = (u[.., 3] * 2 - 1) * (1 - w);
        var cy = (u[.., 4] * 2 - 1) * (1 - h);
        var zero = zeros_like(w);
        var theta = stack([stack([w, zero, cx], 1), stack([zero, h, cy], 1)], 1);   // [N, 2, 3]
        var grid = nn.functional.affine_grid(theta, [n, 3, images01.shape[2], images01.shape[3]], align_corners: false);
        var views = nn.functional.grid_sample(images01, grid, mode: GridSampleMode.Bilinear,
            padding_mode: GridSamplePaddingMode.Border, align_corners: false);

        var brightness = 1 + BrightnessJitter * (rand(n, 1, 1, 1, generator: generator) * 2 - 1);
        var noise = NoiseStd * randn(views.shape, generator: generator);
        return (views * brightness + noise).clamp(0, 1).MoveToOuterDisposeScope();
    }
}
