using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Models.Clip;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// StyleCLIP text edits from sampled scenes, graded by the judge: for seeds 0, 1, ... the stylegan generator's edit
/// start (the seed's latent truncated by <c>truncation</c>; 0.7 is what <c>generate --stylegan</c> edits from) is read with
/// <see cref="SceneReader"/>; a start that shows the edit's object kind (a circle for "a red circle", a star for "a star
/// on the left") is edited with StyleCLIP's defaults (Adam 0.1, its schedule and loss) for <c>steps</c> steps at L2
/// weight <c>l2Lambda</c>, and the judge grades the edited picture for the edit's caption; the unedited start graded
/// for the same caption is the baseline.
/// </summary>
public static class StyleClipEditEval
{
    public sealed record Result(string Prompt, ObjectKind Kind, int Edits, int SeedsScanned, double EditedAccepts, double StartAccepts, int Steps, double L2Lambda, double Truncation);

    public static Result Run(StyleGan2Model model, ClipModel clip, SceneJudge judge, string prompt, ObjectKind kind, int edits, int steps, double l2Lambda, double truncation = 0.7, int maxSeeds = 400)
    {
        var caption = CaptionParser.Parse(prompt);
        var recipe = RunRecipe.DefaultsFor(StyleGanGenerator.GeneratorName) with { Prompt = prompt, Steps = steps, L2Lambda = l2Lambda, StyleGanTruncation = truncation };
        int done = 0, edited = 0, start = 0, seed = 0;
        for (; seed < maxSeeds && done < edits; seed++)
        {
            using var scope = NewDisposeScope();
            using var run = (recipe with { Seed = seed }).CreateRun(clip, null, stylegan: model);
            var startImage = ((StyleGanGenerator)run.Generator).StartImage!.clamp(0, 1);
            var startPlanar = SceneJudge.ToPlanar64(startImage);
            if (!SceneReader.Read(startPlanar, judge).Objects.Any(o => o.Kind == kind)) continue;
            done++;
            if (judge.Judge(startPlanar, caption).Satisfied) start++;
            run.Step(steps);
            var image = run.CurrentImage().ToTensor().clamp(0, 1);
            if (judge.Judge(image, caption).Satisfied) edited++;
        }
        int n = Math.Max(1, done);
        return new Result(prompt, kind, done, seed, edited / (double)n, start / (double)n, steps, l2Lambda, truncation);
    }
}
