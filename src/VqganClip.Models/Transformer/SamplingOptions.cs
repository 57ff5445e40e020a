using System.Globalization;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// How the next token is chosen from the GPT's last logits, as in taming's samplers: divide by
/// <see cref="Temperature"/>, filter (<see cref="TopK"/>, then <see cref="TopP"/>; see <see cref="LogitFilters"/>),
/// softmax, then draw with <c>torch.multinomial</c> (<see cref="Sample"/> true, from <see cref="Generator"/>) or take
/// the most probable token (<c>torch.topk(probs, k=1)</c>, as upstream's greedy branch).
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Logits are divided by it before filtering; must be positive. 1 = unchanged.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens (null: all). Upstream's defaults: 100 in log_images, 250 in sample_fast.py.</summary>
    public int? TopK { get; init; }

    /// <summary>Nucleus: keep the smallest set of most likely tokens whose probability reaches top_p (null or 1: all).</summary>
    public double? TopP { get; init; }

    /// <summary>True: draw from the distribution (multinomial). False: greedy (argmax).</summary>
    public bool Sample { get; init; } = true;

    /// <summary>The generator the draws come from (torch's global CPU generator when null). Seed it for reproducible samples.</summary>
    public Generator? Generator { get; init; }

    /// <summary>
    /// Only tokens below this id may be drawn (null: the whole vocabulary). When a GPT's vocabulary also holds
    /// conditioning tokens (the toolkit's caption tokens follow the image codes), image positions must draw image
    /// codes: <see cref="Net2NetTransformer.Sample"/> sets it to the first stage's codebook size when the vocabulary is
    /// larger. Applied before temperature and filters (logits at or above it become -inf).
    /// </summary>
    public int? TokenLimit { get; init; }

    /// <summary>
    /// Classifier-free guidance (Ho and Salimans 2022; for token-by-token image models as in Make-A-Scene and Parti):
    /// the GPT also reads an unconditional sequence (a caption model's empty caption, which training's caption dropout
    /// taught it) and each step's logits become <c>l_u + s · (l_c − l_u)</c> before the token limit, temperature and
    /// filters. 1 (the default) is taming's plain sampling and reads no second sequence. Not part of taming.
    /// </summary>
    public double GuidanceScale { get; init; } = 1.0;

    /// <summary>Whether <see cref="GuidanceScale"/> asks for the unconditional sequence.</summary>
    public bool Guided => GuidanceScale != 1.0;

    /// <summary>Greedy decoding, optionally after a top-k filter (which does not change the argmax).</summary>
    public static SamplingOptions Greedy => new() { Sample = false };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the value for a bad temperature, top-k or top-p.</summary>
    public void Validate()
    {
        if (double.IsNaN(Temperature) || double.IsInfinity(Temperature) || Temperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature,
                $"temperature must be a positive number (got {Temperature.ToString(CultureInfo.InvariantCulture)}).");
        LogitFilters.Validate(TopK, TopP);
        if (double.IsNaN(GuidanceScale) || double.IsInfinity(GuidanceScale) || GuidanceScale < 0)
            throw new ArgumentOutOfRangeException(nameof(GuidanceScale), GuidanceScale,
                $"the guidance scale must be a number >= 0 (got {GuidanceScale.ToString(CultureInfo.InvariantCulture)}; 1 = no guidance).");
        if (TokenLimit is <= 0)
            throw new ArgumentOutOfRangeException(nameof(TokenLimit), TokenLimit, $"the token limit must be positive (got {TokenLimit}).");
    }

    /// <summary>A short description for logs and PNG text chunks.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{(Sample ? "sample" : "greedy")}, temperature {Temperature}, top_k {(TopK is { } k ? k.ToString(CultureInfo.InvariantCulture) : "off")}, top_p {(TopP is { } p ? p.ToString(CultureInfo.InvariantCulture) : "off")}{(Guided ? $", guidance {GuidanceScale}" : "")}");
}
