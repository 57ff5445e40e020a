using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using static TorchSharp.torch;

namespace VqganClip.Training.AudioClip;

/// <summary>Audio-to-caption retrieval: how often a spoken caption's embedding is nearest its own written caption's.</summary>
public sealed record RetrievalFigures(int Clips, double Top1, double Top5, double MeanOwnCosine, double[,] Cosines, string[] Captions)
{
    public double Chance => 1.0 / Clips;
}

/// <summary>
/// Embeds each spoken caption as <c>generate --audio-prompt</c> does (one WAV at a time, resampled to 44.1 kHz,
/// AudioPrompt's path through <see cref="AudioClipInput"/>), the written captions with the CLIP's text
/// tower, and ranks the captions for each clip by cosine. A clip counts as right when the nearest caption has its
/// text (the held-out list can say one thing twice).
/// </summary>
public static class SpokenCaptionRetrieval
{
    public static RetrievalFigures Run(AudioClipModel model, ClipModel clip, IReadOnlyList<SpokenCaption> clips, IReadOnlyList<string> wavPaths)
    {
        AudioZeroShot.CheckSpace(model, clip);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var audio = new List<Tensor>();
            foreach (var path in wavPaths)
            {
                audio.Add(FinalizerFence.Run(() =>
                {
                    using var inner = NewDisposeScope();
                    var samples = AudioClipInput.Load(path, model.Config);
                    return model.EncodeAudio(samples).MoveToOuterDisposeScope();
                }));
            }
            var a = cat(audio, 0);
            a = a / a.norm(-1, keepdim: true);
            var captions = clips.Select(c => c.Caption).ToArray();
            var t = CaptionEmbeddings.Encode(clip, captions);
            var cos = matmul(a, t.t());
            int n = captions.Length;
            var ranked = cos.argsort(-1, descending: true).cpu();
            var own = cos.diagonal().mean().item<float>();
            int top1 = 0, top5 = 0;
            var order = ranked.data<long>().ToArray();
            for (int i = 0; i < n; i++)
            {
                var row = order.AsSpan(i * n, n);
                if (captions[row[0]] == captions[i]) top1++;
                for (int k = 0; k < Math.Min(5, n); k++)
                    if (captions[row[k]] == captions[i]) { top5++; break; }
            }
            var flat = cos.cpu().data<float>().ToArray();
            var matrix = new double[n, n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) matrix[i, j] = flat[i * n + j];
            return new RetrievalFigures(n, (double)top1 / n, (double)top5 / n, own, matrix, captions);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}

/// <summary>The frozen CLIP's normalised text embeddings of captions (no gradients: the text tower is never trained here).</summary>
public static class CaptionEmbeddings
{
    public static Tensor Encode(ClipModel clip, IReadOnlyList<string> captions, int chunk = 256)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (int start = 0; start < captions.Count; start += chunk)
        {
            using var inner = NewDisposeScope();
            var tokens = ClipTokenizer.Default.Tokenize(captions.Skip(start).Take(chunk).ToList(), clip.ContextLength, truncate: true);
            var e = clip.EncodeText(tokens);
            parts.Add((e / e.norm(-1, keepdim: true)).MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
