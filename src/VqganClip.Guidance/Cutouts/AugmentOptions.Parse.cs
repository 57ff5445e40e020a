using System.Globalization;

namespace VqganClip.Guidance.Cutouts;

public sealed partial record AugmentOptions
{
    /// <summary>The short names <see cref="Parse"/> accepts, with what each sets.</summary>
    public static IReadOnlyDictionary<string, string> Keys { get; } = new Dictionary<string, string>
    {
        ["flip"] = "horizontal flip probability",
        ["affine"] = "affine probability",
        ["degrees"] = "rotation range, degrees",
        ["translate"] = "translation range, fraction of the side",
        ["shear"] = "shear range, degrees",
        ["perspective"] = "perspective probability",
        ["distortion"] = "perspective corner distortion",
        ["color"] = "colour jitter probability",
        ["hue"] = "hue shift range, fraction of a turn",
        ["saturation"] = "saturation range",
        ["noise"] = "noise factor (largest noise standard deviation)",
    };

    /// <summary>
    /// These options changed by a comma-separated list of KEY=VALUE (e.g. "flip=0,hue=0.05"); an empty text changes
    /// nothing. Unknown keys, bad numbers and probabilities outside [0, 1] are errors that name the item.
    /// </summary>
    public AugmentOptions With(string? text)
    {
        var o = this;
        if (string.IsNullOrWhiteSpace(text)) return o;
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v < 0)
                throw new ArgumentException($"Augmentation item '{item}' is not KEY=NUMBER with a number of 0 or more (keys: {string.Join(", ", Keys.Keys)}).");
            var key = parts[0].ToLowerInvariant();
            if (key is "flip" or "affine" or "perspective" or "color" && v > 1)
                throw new ArgumentException($"Augmentation {key}={parts[1]}: a probability must be between 0 and 1.");
            o = key switch
            {
                "flip" => o with { FlipProbability = v },
                "affine" => o with { AffineProbability = v },
                "degrees" => o with { Degrees = v },
                "translate" => o with { Translate = v },
                "shear" => o with { ShearDegrees = v },
                "perspective" => o with { PerspectiveProbability = v },
                "distortion" => o with { Distortion = v },
                "color" => o with { ColorProbability = v },
                "hue" => o with { Hue = v },
                "saturation" => o with { Saturation = v },
                "noise" => o with { NoiseFactor = v },
                _ => throw new ArgumentException($"Augmentation key '{parts[0]}' is unknown; use one of: {string.Join(", ", Keys.Keys)}."),
            };
        }
        return o;
    }
}
