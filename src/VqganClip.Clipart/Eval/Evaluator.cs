using System.Diagnostics;
using TorchSharp;
using VqganClip.Clipart.Judge;
using VqganClip.Guidance.Generators;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Clipart.Eval;

/// <summary>
/// Runs a generator over prompts and grades each image with the independent <see cref="SceneJudge"/>.
/// Every prompt is parsed before anything is generated, so a prompt outside the grammar fails fast
/// with the parser's message.
/// </summary>
public static class Evaluator
{
    /// <param name="generate">Makes an image [3,H,W] or [1,3,H,W] in [0,1] for a prompt; the evaluator disposes it.</param>
    /// <param name="judge">The judge; null = one with the default trained classifier (<see cref="ObjectClassifier.LoadDefault"/>).</param>
    /// <param name="progress">Called after each prompt.</param>
    public static EvalReport Run(Func<string, Tensor> generate, IEnumerable<string> prompts, SceneJudge? judge = null,
        Action<EvalItem>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(generate);
        ArgumentNullException.ThrowIfNull(prompts);
        var parsed = prompts.Select(p => (Prompt: p, Spec: CaptionParser.Parse(p))).ToList();
        judge ??= new SceneJudge(ObjectClassifier.LoadDefault());

        var items = new List<EvalItem>(parsed.Count);
        int threads = torch.get_num_threads();
        foreach (var (prompt, spec) in parsed)
        {
            var clock = Stopwatch.StartNew();
            using var image = generate(prompt) ?? throw new InvalidOperationException($"The generator returned no image for \"{prompt}\".");
            clock.Stop();
            // The judge's classifier runs batches of one or two 32x32 crops: with several torch
            // threads the thread hand-off costs far more than the work (measured 20x slower on a busy
            // 2-core machine). Generation and judging alternate on this thread, so judging alone
            // runs single-threaded and the generator gets its threads back.
            Verdict verdict;
            if (!image.isfinite().all().item<bool>())
            {
                // A broken picture is this prompt's failure, not the end of the evaluation.
                verdict = new Verdict(spec, [new JudgeCheck("picture", CheckOutcome.Failed, "the picture has NaN or infinite pixels")],
                    spec.Background ?? SceneBackground.White);
            }
            else
            {
                torch.set_num_threads(1);
                try { verdict = judge.Judge(image, spec); }
                finally { torch.set_num_threads(threads); }
            }
            var item = new EvalItem(prompt, verdict, clock.Elapsed);
            items.Add(item);
            progress?.Invoke(item);
        }
        return new EvalReport(items, judge.ChecksKinds);
    }

    /// <summary>
    /// The reference "generator": draws each prompt's canonical scene (<see cref="CaptionSpec.ToSceneSpec"/>).
    /// What a perfect generator would score: the judge's own ceiling on the prompt set.
    /// </summary>
    public static Tensor RenderReference(string prompt) =>
        SceneRenderer.RenderTensor(CaptionParser.Parse(prompt).ToSceneSpec());

    /// <summary>
    /// The VQGAN's ceiling: each prompt's canonical scene (<see cref="RenderReference"/>) encoded, snapped to the
    /// codebook and decoded, i.e. the best picture a VQGAN-latent generator could reach if guidance found the drawing's
    /// codes. Returns [1,3,H,W] in [0,1]; the caller owns it.
    /// </summary>
    public static Func<string, Tensor> ReconstructReference(VqganModel vqgan)
    {
        ArgumentNullException.ThrowIfNull(vqgan);
        return prompt =>
        {
            using var scope = NewDisposeScope();
            var drawing = RenderReference(prompt).unsqueeze(0).to(vqgan.Device);
            return VqganLatentGenerator.Reconstruct(vqgan, drawing).cpu().MoveToOuterDisposeScope();
        };
    }
}
