namespace VqganClip.Guidance.Cutouts;

/// <summary>
/// Settings of <see cref="AugmentedCutouts"/>. Defaults follow nerdyrodent's generate.py augmentations (kornia
/// RandomAffine(degrees=15, translate=0.1, p=0.7, padding border), RandomPerspective(0.7, p=0.7),
/// ColorJitter(hue=0.1, saturation=0.1, p=0.7), noise factor 0.1), plus a little scale and shear. Horizontal flips are
/// available but off by default, as in generate.py's default augment list ('Af', 'Pe', 'Ji', 'Er'): a flipped cutout
/// tells CLIP that "on the left" is on the right. Each transform is applied to each cutout independently with its
/// probability.
/// </summary>
public sealed partial record AugmentOptions
{
    public double FlipProbability { get; init; } = 0.0;

    public double AffineProbability { get; init; } = 0.7;
    /// <summary>Rotation range ±degrees.</summary>
    public double Degrees { get; init; } = 15;
    /// <summary>Translation range ± this fraction of the cutout side.</summary>
    public double Translate { get; init; } = 0.1;
    /// <summary>Zoom factor range [min, max].</summary>
    public double ScaleMin { get; init; } = 0.95;
    public double ScaleMax { get; init; } = 1.05;
    /// <summary>Shear range ±degrees (horizontal).</summary>
    public double ShearDegrees { get; init; } = 5;

    public double PerspectiveProbability { get; init; } = 0.7;
    /// <summary>How far each corner may move, as a fraction of the cutout's half-side (kornia's distortion_scale).</summary>
    public double Distortion { get; init; } = 0.7;

    public double ColorProbability { get; init; } = 0.7;
    public double Brightness { get; init; } = 0.0;
    public double Contrast { get; init; } = 0.0;
    public double Saturation { get; init; } = 0.1;
    /// <summary>Hue shift range ± this fraction of a full turn.</summary>
    public double Hue { get; init; } = 0.1;

    /// <summary>Each cutout gets Gaussian noise with a standard deviation drawn uniformly from [0, this].</summary>
    public double NoiseFactor { get; init; } = 0.1;
}
