using TorchSharp;
using VqganClip.Models.Clip;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>Caption retrieval on held-out scenes: within each group of <see cref="GroupSize"/> scenes, every image
/// picks the caption CLIP scores highest among the group's captions (and every caption its image).</summary>
/// <param name="ImageToTextTop1">Fraction of images whose own caption scores highest (the target figure).</param>
/// <param name="TextToImageTop1">Fraction of captions whose own image scores highest.</param>
public sealed record RetrievalResult(int Scenes, int GroupSize, double ImageToTextTop1, double TextToImageTop1, double ImageToTextTop5)
{
    public IReadOnlyDictionary<string, double> ToMetrics() => new Dictionary<string, double>
    {
        ["top1"] = ImageToTextTop1,
        ["top1_text_to_image"] = TextToImageTop1,
        ["top5"] = ImageToTextTop5,
    };
}

public static class RetrievalEval
{
    /// <summary>Scores the first <paramref name="count"/> held-out scenes (full 64x64 images, no augmentation)
    /// in groups of <paramref name="groupSize"/> (count is rounded down to whole groups).</summary>
    public static RetrievalResult Run(ClipModel model, int count = 1000, int groupSize = 100, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(groupSize, 2);
        int groups = count / groupSize;
        if (groups == 0) throw new ArgumentOutOfRangeException(nameof(count), $"At least one group of {groupSize} scenes is needed (got {count}).");
        var (specs, captions) = ClipartBatches.HeldOut(groups * groupSize);
        int i2t = 0, t2i = 0, i2t5 = 0;
        using var _ = no_grad();
        for (int g = 0; g < groups; g++)
        {
            using var scope = NewDisposeScope();
            var groupSpecs = specs.Skip(g * groupSize).Take(groupSize).ToArray();
            var groupCaptions = captions.Skip(g * groupSize).Take(groupSize).ToArray();
            var imageFeatures = UnitImageFeatures(model, ClipartBatches.Render(groupSpecs, threads));
            var textFeatures = UnitTextFeatures(model, groupCaptions);
            var similarity = matmul(imageFeatures, textFeatures.t());   // [images, captions]
            var own = arange(groupSize, dtype: ScalarType.Int64);
            i2t += (int)(similarity.argmax(1) == own).sum().item<long>();
            t2i += (int)(similarity.argmax(0) == own).sum().item<long>();
            var top5 = similarity.topk(Math.Min(5, groupSize), dim: 1).indexes;
            i2t5 += (int)(top5 == own.unsqueeze(1)).any(1).sum().item<long>();
        }
        int n = groups * groupSize;
        return new RetrievalResult(n, groupSize, (double)i2t / n, (double)t2i / n, (double)i2t5 / n);
    }

    /// <summary>
    /// Shape reading: each of the first <paramref name="count"/> held-out images picks its caption among the captions
    /// of its <see cref="Vocabulary.Kinds"/> variants (its first object drawn as each kind, written with the same
    /// random choices, so the candidates differ in one kind word). Chance is 1/12; colour and position do not help.
    /// </summary>
    public static double KindTop1(ClipModel model, int count = 300, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var (specs, _) = ClipartBatches.HeldOut(count);
        var kinds = Clipart.Vocabulary.Kinds;
        int right = 0;
        using var _ = no_grad();
        using (var outer = NewDisposeScope())
        {
            var imageFeatures = UnitImageFeatures(model, ClipartBatches.Render(specs, threads));
            for (int i = 0; i < count; i++)
            {
                using var scope = NewDisposeScope();
                var captions = kinds.Select(k => Clipart.CaptionWriter.Caption(ClipartBatches.WithKind(specs[i], 0, k), new Random(i))).ToArray();
                var text = UnitTextFeatures(model, captions);
                int best = (int)matmul(text, imageFeatures[i]).argmax().item<long>();
                if (kinds[best] == specs[i].Objects[0].Kind) right++;
            }
        }
        return (double)right / count;
    }

    /// <summary>Unit-length image embeddings of rendered scenes [N, 3, H, W] in [0, 1] (resized to CLIP's input, no augmentation).</summary>
    private static Tensor UnitImageFeatures(ClipModel model, Tensor images)
    {
        var features = model.EncodeImage(ClipModel.Normalize01(ClipPreprocess.ResizeAndCenterCrop(images, model.ImageSize)));
        return features / features.norm(-1, keepdim: true);
    }

    /// <summary>Unit-length text embeddings of captions.</summary>
    private static Tensor UnitTextFeatures(ClipModel model, IReadOnlyList<string> captions)
    {
        var features = model.EncodeText(ClipTokenizer.Default.Tokenize(captions, model.ContextLength, truncate: true));
        return features / features.norm(-1, keepdim: true);
    }
}
