using TorchSharp;
using VqganClip.Models.Clip;
using static TorchSharp.torch;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// Zero-shot audio classification as upstream's <c>logits_audio_text</c>: softmax over texts of
/// clamp(exp(logit_scale_at), 1, 100) · cos(audio, text), the texts through <paramref name="textTower"/>'s text tower.
/// </summary>
public static class AudioZeroShot
{
    /// <param name="samples">[B, L] at 44.1 kHz in the int16 range (<see cref="AudioClipInput"/>).</param>
    public static ZeroShotResult Score(AudioClipModel model, ClipModel textTower, Tensor samples, IReadOnlyList<string> texts, ClipTokenizer? tokenizer = null)
    {
        if (texts.Count == 0) throw new ArgumentException("At least one text is needed to score against.", nameof(texts));
        CheckSpace(model, textTower);
        tokenizer ??= ClipTokenizer.Default;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var audio = model.EncodeAudio(samples);
        var tokens = tokenizer.Tokenize(texts, textTower.ContextLength, truncate: true);
        long largest = tokens.max().item<long>();
        if (largest >= textTower.Config.VocabSize)
            throw new ArgumentException($"The CLIP's text tower knows {textTower.Config.VocabSize} tokens but the texts need token {largest}: it is not a text tower for CLIP's BPE vocabulary (a test model?).");
        var text = textTower.EncodeText(tokens);
        audio = audio / audio.norm(-1, keepdim: true);
        text = text / text.norm(-1, keepdim: true);
        var cosines = matmul(audio, text.t());
        var probabilities = softmax(cosines * model.AudioTextScale, -1);
        return new ZeroShotResult(texts.ToList(), Rows(probabilities), Rows(cosines));
    }

    /// <summary>The audio head and a CLIP share one space only if their embeddings have the same width (and were trained together).</summary>
    public static void CheckSpace(AudioClipModel model, ClipModel clip)
    {
        if (model.EmbedDim != clip.EmbedDim)
            throw new ArgumentException(
                $"The AudioCLIP audio head embeds into {model.EmbedDim} dimensions but the CLIP into {clip.EmbedDim}: they do not share a space. " +
                "Use the CLIP towers of the same AudioCLIP file (leave out --clip) or the RN50 CLIP the Partial checkpoint was trained against.");
    }

    private static float[][] Rows(Tensor m)
    {
        var cpu = m.cpu();
        int rows = (int)cpu.shape[0], cols = (int)cpu.shape[1];
        var flat = cpu.data<float>().ToArray();
        return Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * cols, cols).ToArray()).ToArray();
    }
}
