using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace VqganClip.Guidance.Prompts;

/// <summary>Where a prompt's target embedding comes from.</summary>
public enum PromptSource
{
    /// <summary>A text, encoded by CLIP's text tower.</summary>
    Text,
    /// <summary>An image file, encoded by CLIP's image tower (through the same cutouts the run uses).</summary>
    Image,
    /// <summary>A random embedding drawn from a seed (the original's <c>--noise_prompt_seeds</c>).</summary>
    Noise,
    /// <summary>A WAV file, encoded by an AudioCLIP audio head into the CLIP's joint space (<see cref="AudioPrompt"/>).</summary>
    Audio,
}

/// <summary>
/// One prompt as written, before encoding: what to steer towards (or, with a negative weight, away from),
/// how strongly, and the distance below which it stops pulling.
/// </summary>
/// <param name="Source">Text, image file or noise seed.</param>
/// <param name="Text">The text, or the image path; for noise prompts the seed as text.</param>
/// <param name="Weight">Loss weight; negative steers away. Default 1.</param>
/// <param name="Stop">The loss of this prompt is not pushed below this value (the original's <c>stop</c>); default -inf (never stops).</param>
/// <param name="Column">1-based column where the prompt started in the string it was parsed from (0 when built in code).</param>
public sealed record PromptSpec(PromptSource Source, string Text, double Weight = 1.0, double Stop = double.NegativeInfinity, int Column = 0)
{
    public static PromptSpec FromText(string text, double weight = 1.0, double stop = double.NegativeInfinity) =>
        new(PromptSource.Text, text, weight, stop);

    public static PromptSpec FromImage(string path, double weight = 1.0, double stop = double.NegativeInfinity) =>
        new(PromptSource.Image, path, weight, stop);

    public static PromptSpec FromAudio(string path, double weight = 1.0, double stop = double.NegativeInfinity) =>
        new(PromptSource.Audio, path, weight, stop);

    public static PromptSpec FromNoise(long seed, double weight = 1.0) =>
        new(PromptSource.Noise, seed.ToString(CultureInfo.InvariantCulture), weight);

    /// <summary>The seed of a noise prompt.</summary>
    [JsonIgnore]
    public long NoiseSeed => Source == PromptSource.Noise
        ? long.Parse(Text, CultureInfo.InvariantCulture)
        : throw new InvalidOperationException($"Prompt '{Text}' is a {Source} prompt, not a noise prompt.");

    /// <summary>
    /// The prompt in the syntax <see cref="PromptParser"/> reads back: <c>text[:weight[:stop]]</c> with ':', '|', '^'
    /// inside the text escaped by a backslash. Image and noise prompts are written <c>image=</c>/<c>noise=</c> prefixed
    /// only by <see cref="ToLabel"/>; this form is the one their own parsers read.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Escape(Text));
        bool hasStop = !double.IsNegativeInfinity(Stop);
        if (Weight != 1.0 || hasStop) sb.Append(':').Append(FormatNumber(Weight));
        if (hasStop) sb.Append(':').Append(FormatNumber(Stop));
        return sb.ToString();
    }

    /// <summary>A short label for charts and reports, e.g. <c>"a red rose"</c>, <c>"image:cat.png"</c>, <c>"noise:42"</c>, with the weight when not 1.</summary>
    public string ToLabel()
    {
        var name = Source switch
        {
            PromptSource.Image => "image:" + Path.GetFileName(Text),
            PromptSource.Noise => "noise:" + Text,
            PromptSource.Audio => "audio:" + Path.GetFileName(Text),
            _ => Text,
        };
        return Weight == 1.0 ? name : $"{name} ({FormatNumber(Weight)})";
    }

    internal static string FormatNumber(double v) =>
        double.IsNegativeInfinity(v) ? "-inf" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Escapes the characters the prompt syntax gives a meaning to (':', '|', '^') with a backslash.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is ':' or '|' or '^') sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
