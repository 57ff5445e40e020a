using VqganClip.Clipart.Eval;
using VqganClip.Clipart.Judge;
using VqganClip.Guidance;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Training.AudioClip;

/// <summary>The same prompts guided typed and spoken, each graded by the judge.</summary>
public sealed record SpokenPromptFigures(EvalReport Typed, EvalReport Spoken, int Steps, SpeechStyle Voice)
{
    /// <summary>Pictures whose every check but the object kind passed (the judge's kind check is the one even typed prompts rarely pass).</summary>
    public static int AllButKind(EvalReport report) =>
        report.Items.Count(i => i.Verdict.Failures.All(f => f.Name.EndsWith(": kind", StringComparison.Ordinal)));
}

/// <summary>
/// Guides <c>generate</c>'s loop generator (VQGAN, default settings but <paramref name="steps"/>, seed 0) once with
/// each eval prompt typed and once with the prompt spoken by the held-out voice as the only prompt
/// (<c>--audio-prompt</c>), and grades both pictures with the independent judge (<see cref="Evaluator"/>), as
/// <c>vqgan-clip eval</c> grades text prompts.
/// </summary>
public static class SpokenPromptEval
{
    /// <summary>Every <paramref name="every"/>-th fixed eval prompt, from the first.</summary>
    public static IReadOnlyList<string> Subset(int every) => EvalPrompts.Fixed.Where((_, i) => i % every == 0).ToList();

    public static SpokenPromptFigures Run(ClipModel clip, VqganModel vqgan, AudioClipModel audio, IReadOnlyList<string> prompts, int steps,
        string cacheDirectory, SceneJudge? judge = null, Action<string, bool, EvalItem>? progress = null, SpeechStyle? voice = null)
    {
        voice ??= SpeechVoices.HeldOutStyle;
        var spoken = prompts.Select(p => new SpokenCaption(p, voice)).ToArray();
        var wavs = SpokenCaptions.Synthesize(spoken, cacheDirectory);
        var wavOf = prompts.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => wavs[x.i]);
        judge ??= new SceneJudge(ObjectClassifier.LoadDefault());
        var recipe = new RunRecipe { Steps = steps, Seed = 0, Generator = RunRecipe.LoopGenerator };

        Tensor Generate(RunRecipe r)
        {
            using var run = r.CreateRun(clip, vqgan, audio: audio);
            run.Step(Math.Max(0, r.Steps - run.StepCount));
            return run.CurrentImage().ToTensor();
        }

        var typed = Evaluator.Run(p => Generate(recipe with { Prompt = p }), prompts, judge, item => progress?.Invoke(item.Prompt, false, item));
        var said = Evaluator.Run(p => Generate(recipe with { AudioPrompts = [wavOf[p]] }), prompts, judge, item => progress?.Invoke(item.Prompt, true, item));
        return new SpokenPromptFigures(typed, said, steps, voice);
    }
}
