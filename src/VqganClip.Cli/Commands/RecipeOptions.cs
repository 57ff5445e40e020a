using System.CommandLine;
using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Optimization;

namespace VqganClip.Cli.Commands;

/// <summary>
/// The command-line options that describe a <see cref="RunRecipe"/>, defined once for <c>generate</c> and
/// <c>eval</c>. Every default shown and used is <see cref="RunRecipe.Default"/>'s (whose guidance defaults are
/// <see cref="GuidanceOptions.Default"/>'s), so the command line and notebooks agree.
/// </summary>
public sealed class RecipeOptions
{
    private static RunRecipe D => RunRecipe.Default;

    public Option<string> Generator { get; } = new("--generator") { Description = string.Join(" | ", GeneratorFactory.Names), DefaultValueFactory = _ => D.Generator };
    public Option<string?> Size { get; } = new("--size") { Description = "Picture size WxH (or N for square); default: the CLIP's input size for small CLIPs (64x64 with the shipped models), else 256x256" };
    public Option<int> Steps { get; } = new("--steps") { Description = "Total optimisation steps", DefaultValueFactory = _ => D.Steps };
    public Option<int> CutCount { get; } = new("--cutn") { Description = "Cutouts per step", DefaultValueFactory = _ => D.CutCount };
    public Option<double> CutPower { get; } = new("--cut-pow") { Description = "Cutout size power (>1: smaller crops)", DefaultValueFactory = _ => D.CutPower };
    public Option<string> CutMethod { get; } = new("--cut-method") { Description = "augmented (generate.py's affine, perspective, colour jitter, noise) | original (the first notebook's plain crops)", DefaultValueFactory = _ => D.CutMethod };
    public Option<string?> Augment { get; } = new("--augment") { Description = "With --cut-method augmented: KEY=VALUE,... (flip, affine, degrees, translate, shear, perspective, distortion, color, hue, saturation, noise)" };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "Learning rate", DefaultValueFactory = _ => D.LearningRate };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = string.Join(" | ", OptimizerFactory.Names), DefaultValueFactory = _ => D.Optimizer };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "constant | cosine:STEPS[:MIN] | warmup:STEPS", DefaultValueFactory = _ => D.Schedule };
    public Option<string> Init { get; } = new("--init") { Description = "How the vqgan generator's latent starts without --init-image: codes (random codebook entries, the original) | flat (a blank white canvas) | noise", DefaultValueFactory = _ => D.Init };
    public Option<int> Starts { get; } = new("--starts") { Description = "Start this many runs (seeds SEED, SEED+1, ...), keep the one CLIP rates best after --trial-steps", DefaultValueFactory = _ => D.Starts };
    public Option<int> TrialSteps { get; } = new("--trial-steps") { Description = "Steps each start runs before the best is kept (they count towards --steps)", DefaultValueFactory = _ => D.TrialSteps };
    public Option<string?> InitImage { get; } = new("--init-image") { Description = "Start from this picture (vqgan and pixels generators)" };
    public Option<double> InitWeight { get; } = new("--init-weight") { Description = "Keep close to the start (the original's init_weight)", DefaultValueFactory = _ => D.InitWeight };
    public Option<double> TotalVariation { get; } = new("--tv") { Description = "Total-variation weight (smoothness)", DefaultValueFactory = _ => D.TotalVariation };
    public Option<int> PhaseSteps { get; } = new("--phase-steps") { Description = "With '^' story phases: steps per phase", DefaultValueFactory = _ => D.PhaseSteps };
    public Option<int> Strokes { get; } = new("--strokes") { Description = "Number of strokes (strokes generator)", DefaultValueFactory = _ => D.Strokes };

    /// <summary>The options in the order <c>--help</c> lists them (<see cref="Generator"/> first; callers may leave it out).</summary>
    public IEnumerable<Option> All(bool includeGenerator = true)
    {
        if (includeGenerator) yield return Generator;
        foreach (var o in new Option[] { Size, Steps, CutCount, CutPower, CutMethod, Augment, LearningRate, Optimizer, Schedule,
                     Init, Starts, TrialSteps, InitImage, InitWeight, TotalVariation, PhaseSteps, Strokes })
            yield return o;
    }

    /// <summary>Adds <see cref="All"/> to <paramref name="command"/>.</summary>
    public void AddTo(Command command, bool includeGenerator = true)
    {
        foreach (var o in All(includeGenerator)) command.Options.Add(o);
    }

    /// <summary>The recipe the parsed options describe (prompt and seed are the caller's).</summary>
    public RunRecipe Read(ParseResult parse) => D with
    {
        Generator = parse.GetValue(Generator) ?? D.Generator,
        Size = parse.GetValue(Size),
        Steps = parse.GetValue(Steps),
        CutCount = parse.GetValue(CutCount),
        CutPower = parse.GetValue(CutPower),
        CutMethod = parse.GetValue(CutMethod)!,
        Augment = parse.GetValue(Augment),
        LearningRate = parse.GetValue(LearningRate),
        Optimizer = parse.GetValue(Optimizer)!,
        Schedule = parse.GetValue(Schedule)!,
        Init = parse.GetValue(Init)!,
        Starts = parse.GetValue(Starts),
        TrialSteps = parse.GetValue(TrialSteps),
        InitImage = parse.GetValue(InitImage),
        InitWeight = parse.GetValue(InitWeight),
        TotalVariation = parse.GetValue(TotalVariation),
        PhaseSteps = parse.GetValue(PhaseSteps),
        Strokes = parse.GetValue(Strokes),
    };
}
