using System.Security.Cryptography;
using System.Text;
using VqganClip.Clipart;

namespace VqganClip.Training.AudioClip;

/// <summary>One caption spoken in one style, and the cache file it is (or will be) in.</summary>
public sealed record SpokenCaption(string Caption, SpeechStyle Style)
{
    /// <summary>File name in a cache folder: the style and a hash of the text, so equal requests share a file.</summary>
    public string FileName
    {
        get
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Caption + "|" + Style.Key));
            return $"{Style.Key}-{Convert.ToHexString(hash, 0, 8).ToLowerInvariant()}.wav";
        }
    }

    public string PathIn(string cacheDirectory) => Path.Combine(cacheDirectory, FileName);
}

/// <summary>
/// The spoken clipart captions: training captions come from their own scene stream (a function of the run seed),
/// each said by a training voice at a random speed and pitch (<see cref="SpeechVoices"/>); held-out captions are
/// <see cref="ClipartBatches.HeldOut"/>'s, said by the held-out voice. The lists depend on the seed only; synthesis
/// (<see cref="Synthesize"/>) fills a cache folder in parallel and skips files already there, so the order of work
/// never changes what a clip sounds like. Generated audio lives under a run folder and is never committed.
/// </summary>
public static class SpokenCaptions
{
    /// <summary>The <paramref name="count"/> training clips of a run with seed <paramref name="seed"/>; <paramref name="wideVoices"/>: drawn from <see cref="SpeechVoices.WideTraining"/>.</summary>
    public static SpokenCaption[] Training(int seed, int count, bool wideVoices = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        // a stream of its own (step index -1 folded in), apart from the image trainers' step streams
        var sampler = new SceneSampler(ClipartBatches.StepSeed(seed ^ 0x5A0D10, long.MaxValue));
        var styles = new Random(ClipartBatches.StepSeed(seed ^ 0x5A0D11, long.MaxValue));
        var clips = new SpokenCaption[count];
        for (int i = 0; i < count; i++)
            clips[i] = new SpokenCaption(sampler.NextCaptioned().Caption, wideVoices ? SpeechVoices.DrawWideTraining(styles) : SpeechVoices.DrawTraining(styles));
        return clips;
    }

    /// <summary>The first <paramref name="count"/> held-out captions said in <paramref name="style"/> (default: the held-out voice).</summary>
    public static SpokenCaption[] HeldOut(int count, SpeechStyle? style = null)
    {
        var (_, captions) = ClipartBatches.HeldOut(count);
        return captions.Select(c => new SpokenCaption(c, style ?? SpeechVoices.HeldOutStyle)).ToArray();
    }

    /// <summary>
    /// Synthesises the clips missing from <paramref name="cacheDirectory"/>, <paramref name="parallel"/> at a time
    /// (espeak-ng spends most of its wall time starting up, not computing). Returns the WAV paths in clip order.
    /// </summary>
    public static string[] Synthesize(IReadOnlyList<SpokenCaption> clips, string cacheDirectory, EspeakSynthesizer? synthesizer = null,
        int parallel = 4, Action<int, int>? progress = null)
    {
        synthesizer ??= new EspeakSynthesizer();
        Directory.CreateDirectory(cacheDirectory);
        var paths = clips.Select(c => c.PathIn(cacheDirectory)).ToArray();
        var missing = Enumerable.Range(0, clips.Count).Where(i => !File.Exists(paths[i])).ToArray();
        int done = 0;
        Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel) }, i =>
        {
            synthesizer.Speak(clips[i].Caption, clips[i].Style, paths[i]);
            int n = Interlocked.Increment(ref done);
            if (progress is not null && (n % 500 == 0 || n == missing.Length)) progress(n, missing.Length);
        });
        return paths;
    }
}
