using SkiaSharp;

namespace VqganClip.Clipart;

/// <summary>
/// The fixed RGB of every colour word and background, and the perceptual distance (CIELAB ΔE76)
/// the sampler and the judge use. Values were picked so that every pair of object colours is at
/// least ΔE 39 apart; the few object/background pairs closer than <see cref="ClashDistance"/>
/// (green on grass, white on white) are never sampled.
/// </summary>
public static class Palette
{
    public readonly record struct Rgb(byte R, byte G, byte B)
    {
        public SKColor ToSKColor() => new(R, G, B);
        public Lab ToLab() => Palette.ToLab(R / 255f, G / 255f, B / 255f);
    }

    public readonly record struct Lab(float L, float A, float B)
    {
        public float DistanceTo(Lab o)
        {
            float dl = L - o.L, da = A - o.A, db = B - o.B;
            return MathF.Sqrt(dl * dl + da * da + db * db);
        }
    }

    /// <summary>Object/background pairs closer than this (ΔE) are a clash: the object would vanish.</summary>
    public const float ClashDistance = 30f;

    public static Rgb Of(ClipartColor color) => color switch
    {
        ClipartColor.Red => new(220, 30, 30),
        ClipartColor.Orange => new(255, 140, 0),
        ClipartColor.Yellow => new(250, 220, 30),
        ClipartColor.Green => new(40, 170, 60),
        ClipartColor.Blue => new(30, 80, 230),
        ClipartColor.Purple => new(140, 40, 160),
        ClipartColor.Pink => new(250, 130, 190),
        ClipartColor.White => new(255, 255, 255),
        ClipartColor.Black => new(20, 20, 20),
        ClipartColor.Brown => new(130, 75, 30),
        _ => throw new ArgumentOutOfRangeException(nameof(color), color, "Unknown colour."),
    };

    /// <summary>Neutral grey for the small secondary parts (trunk, mast, stem, door): no colour word is near it.</summary>
    public static readonly Rgb Detail = new(128, 128, 128);

    public static readonly Rgb BackgroundWhite = new(255, 255, 255);
    public static readonly Rgb Sky = new(135, 190, 240);
    public static readonly Rgb Night = new(25, 35, 95);
    public static readonly Rgb Grass = new(110, 190, 80);
    public static readonly Rgb Sand = new(225, 195, 135);

    /// <summary>The colours a background is painted with (grass: sky above, grass below).</summary>
    public static IReadOnlyList<Rgb> ColorsOf(SceneBackground background) => background switch
    {
        SceneBackground.White => [BackgroundWhite],
        SceneBackground.Sky => [Sky],
        SceneBackground.Night => [Night],
        SceneBackground.Grass => [Sky, Grass],
        SceneBackground.Sand => [Sand],
        _ => throw new ArgumentOutOfRangeException(nameof(background), background, "Unknown background."),
    };

    /// <summary>True if an object of this colour would be (nearly) invisible on this background.</summary>
    public static bool Clashes(ClipartColor color, SceneBackground background)
    {
        var lab = Of(color).ToLab();
        return ColorsOf(background).Any(c => c.ToLab().DistanceTo(lab) < ClashDistance);
    }

    // sRGB decoding through a table with linear interpolation: the judge converts every pixel
    // of every image, and MathF.Pow per channel dominated its time.
    private const int LinearSteps = 1024;
    private static readonly float[] LinearTable = Enumerable.Range(0, LinearSteps + 2)
        .Select(i => Math.Min(i, LinearSteps) / (float)LinearSteps)
        .Select(c => c <= 0.04045f ? c / 12.92f : MathF.Pow((c + 0.055f) / 1.055f, 2.4f)).ToArray();

    /// <summary>sRGB in [0,1] (clamped) to CIELAB (D65).</summary>
    public static Lab ToLab(float r, float g, float b)
    {
        float rl = Linear(r), gl = Linear(g), bl = Linear(b);
        float x = (0.4124f * rl + 0.3576f * gl + 0.1805f * bl) / 0.95047f;
        float y = 0.2126f * rl + 0.7152f * gl + 0.0722f * bl;
        float z = (0.0193f * rl + 0.1192f * gl + 0.9505f * bl) / 1.08883f;
        float fx = F(x), fy = F(y), fz = F(z);
        return new Lab(116f * fy - 16f, 500f * (fx - fy), 200f * (fy - fz));

        static float Linear(float c)
        {
            float t = (float.IsNaN(c) ? 0f : Math.Clamp(c, 0f, 1f)) * LinearSteps;
            int i = (int)t;
            return LinearTable[i] + (t - i) * (LinearTable[i + 1] - LinearTable[i]);
        }
        static float F(float t) => t > 0.008856f ? MathF.Cbrt(t) : 7.787f * t + 16f / 116f;
    }
}
