using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>Scores of every image against every text.</summary>
/// <param name="Texts">The candidate texts, in the order of the score columns.</param>
/// <param name="Probabilities">[image][text]: softmax over texts of exp(logit_scale) * cosine, as CLIP's zero-shot classification.</param>
/// <param name="Cosines">[image][text]: cosine similarity of the embeddings.</param>
public sealed record ZeroShotResult(IReadOnlyList<string> Texts, float[][] Probabilities, float[][] Cosines)
{
    /// <summary>Text indices of one image, best first.</summary>
    public IReadOnlyList<int> Ranking(int image) =>
        Enumerable.Range(0, Texts.Count).OrderByDescending(t => Probabilities[image][t]).ToList();
}

/// <summary>CLIP zero-shot scoring: which of these texts describes each image best.</summary>
public static class ZeroShot
{
    /// <param name="model">A loaded CLIP.</param>
    /// <param name="images01">[N,3,H,W] or [3,H,W] in [0,1], any size: resized and center-cropped like CLIP's preprocess.</param>
    /// <param name="texts">Candidate descriptions (at least one).</param>
    /// <param name="tokenizer">CLIP's BPE tokenizer; <see cref="ClipTokenizer.Default"/> when null. Long texts are truncated.</param>
    public static ZeroShotResult Score(ClipModel model, Tensor images01, IReadOnlyList<string> texts, ClipTokenizer? tokenizer = null)
    {
        if (texts.Count == 0) throw new ArgumentException("At least one text is needed to score against.", nameof(texts));
        tokenizer ??= ClipTokenizer.Default;

        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var pixels = ClipPreprocess.Prepare(model, images01);
        var tokens = tokenizer.Tokenize(texts, model.ContextLength, truncate: true);
        var imageFeatures = model.EncodeImage(pixels);
        var textFeatures = model.EncodeText(tokens);
        imageFeatures = imageFeatures / imageFeatures.norm(-1, keepdim: true);
        textFeatures = textFeatures / textFeatures.norm(-1, keepdim: true);
        var cosines = torch.matmul(imageFeatures, textFeatures.t());
        var probabilities = torch.softmax(cosines * model.LogitScale, -1);
        return new ZeroShotResult(texts.ToList(), ToRows(probabilities), ToRows(cosines));
    }

    private static float[][] ToRows(Tensor matrix)
    {
        var cpu = matrix.cpu();
        long rows = cpu.shape[0], cols = cpu.shape[1];
        var flat = cpu.data<float>().ToArray();
        return Enumerable.Range(0, (int)rows).Select(r => flat.AsSpan((int)(r * cols), (int)cols).ToArray()).ToArray();
    }
}
