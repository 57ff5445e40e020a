using System.Globalization;

namespace VqganClip.Training.AudioClip;

/// <summary>
/// How espeak-ng says a caption: a voice with its variant (<c>en-us+f3</c>), words per minute (<c>-s</c>) and pitch
/// 0–99 (<c>-p</c>). <see cref="Key"/> names it in cache file names.
/// </summary>
public sealed record SpeechStyle(string Voice, int WordsPerMinute, int Pitch)
{
    public string Key => string.Create(CultureInfo.InvariantCulture, $"{Voice.Replace('+', '_')}-s{WordsPerMinute}-p{Pitch}");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Voice} {WordsPerMinute} wpm pitch {Pitch}");
}

/// <summary>
/// The voices of the spoken captions. Training draws from <see cref="Training"/> (four English accents × male and
/// female variants); <see cref="HeldOut"/> (a Scottish accent with a female variant no training voice uses) is kept
/// for evaluation only, so the figures measure a voice the head never heard.
/// </summary>
public static class SpeechVoices
{
    public static readonly string[] TrainingAccents = ["en-us", "en-gb-x-rp", "en-029", "en-gb-x-gbclan"];
    public static readonly string[] TrainingVariants = ["m1", "m3", "m7", "f1", "f4"];

    /// <summary>Every training voice: accent+variant.</summary>
    public static readonly string[] Training =
        TrainingAccents.SelectMany(a => TrainingVariants.Select(v => $"{a}+{v}")).ToArray();

    /// <summary>The held-out voice: an accent and a variant that no training voice has.</summary>
    public const string HeldOut = "en-gb-scotland+f2";

    /// <summary>Training speeds and pitches are drawn from these ranges (espeak-ng's defaults: 175 wpm, pitch 50).</summary>
    public const int MinSpeed = 140, MaxSpeed = 210, MinPitch = 30, MaxPitch = 75;

    /// <summary>The held-out voice at espeak-ng's default speed and pitch.</summary>
    public static SpeechStyle HeldOutStyle { get; } = new(HeldOut, 175, 50);

    /// <summary>A random training style.</summary>
    public static SpeechStyle DrawTraining(Random random) =>
        new(Training[random.Next(Training.Length)], random.Next(MinSpeed, MaxSpeed + 1), random.Next(MinPitch, MaxPitch + 1));

    /// <summary>
    /// The wide voice set (<c>--wide-voices</c>): seven English accents (the four above, plain en-gb, New York City and
    /// West Midlands; never en-gb-scotland) × eleven variants (never f2), 77 voices.
    /// </summary>
    public static readonly string[] WideAccents = [.. TrainingAccents, "en-gb", "en-us-nyc", "en-gb-x-gbcwmd"];
    public static readonly string[] WideVariants = [.. TrainingVariants, "m2", "m4", "m5", "m6", "f3", "f5"];
    public static readonly string[] WideTraining =
        WideAccents.SelectMany(a => WideVariants.Select(v => $"{a}+{v}")).ToArray();

    /// <summary>The wide set's speeds and pitches.</summary>
    public const int WideMinSpeed = 120, WideMaxSpeed = 240, WideMinPitch = 15, WideMaxPitch = 90;

    /// <summary>A random training style of the wide set.</summary>
    public static SpeechStyle DrawWideTraining(Random random) =>
        new(WideTraining[random.Next(WideTraining.Length)], random.Next(WideMinSpeed, WideMaxSpeed + 1), random.Next(WideMinPitch, WideMaxPitch + 1));
}
