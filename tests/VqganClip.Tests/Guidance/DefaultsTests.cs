using System.CommandLine;
using VqganClip.Cli.Commands;
using VqganClip.Guidance;
using VqganClip.Guidance.Cutouts;

namespace VqganClip.Tests.Guidance;

/// <summary>One home for defaults: the command line, the recipe and a notebook's GuidedRun read them from GuidanceOptions.Default.</summary>
public class DefaultsTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _m;
    public DefaultsTests(TinyModels m) => _m = m;

    [Fact]
    public void The_command_lines_defaults_are_the_recipes_and_its_guidance_defaults_are_GuidanceOptions_Default()
    {
        var options = new RecipeOptions();
        var command = new Command("generate");
        options.AddTo(command);
        var recipe = options.Read(command.Parse(""));
        // every setting is the recipe's; the generator, which the recipe leaves to the loop, is the command line's
        // choice for the shipped models (the transformer: RunRecipe.DefaultGenerator, tested in GenerateTransformerTests)
        Assert.Equal(RunRecipe.Default with { Generator = RunRecipe.DefaultGenerator(shippedModelsOnly: true) }, recipe);
        Assert.Equal(GuidanceOptions.Default with { Seed = 7 }, recipe.ToOptions(seed: 7));
        // the setting the notebooks and the command line once disagreed on
        Assert.Equal(CutMethod.Augmented, GuidanceOptions.Default.CutMethod);
        Assert.Equal(new AugmentOptions(), recipe.ToOptions(0).Augment);
    }

    [Fact]
    public void A_notebooks_run_with_no_options_gets_GuidanceOptions_Default()
    {
        using var run = GuidedRun.Create(_m.Make("pixels"), _m.Clip, "a red circle");
        Assert.Same(GuidanceOptions.Default, run.Options);
    }

    [Fact]
    public void A_changed_default_reaches_the_command_line()
    {
        // every option's default comes from the recipe; a flag given overrides exactly that setting
        var options = new RecipeOptions();
        var command = new Command("generate");
        options.AddTo(command);
        var recipe = options.Read(command.Parse("--cutn 5 --cut-method original"));
        Assert.Equal(RunRecipe.Default with { Generator = RunRecipe.DefaultGenerator(shippedModelsOnly: true), CutCount = 5, CutMethod = "original" }, recipe);
        Assert.Equal(CutMethod.Original, recipe.ToOptions(0).CutMethod);
        Assert.Equal(GuidanceOptions.Default.LearningRate, recipe.ToOptions(0).LearningRate);
    }

    [Fact]
    public void Class_reads_as_the_transformers_id_or_the_biggan_starts_class()
    {
        var options = new RecipeOptions();
        var command = new Command("generate");
        options.AddTo(command);
        RunRecipe Read(string line) => options.Read(command.Parse(line));
        Assert.Equal(7, Read("--generator transformer --class 7").Transformer.ClassId);
        Assert.Null(Read("--generator transformer --class auto").Transformer.ClassId);
        Assert.Null(Read("--generator transformer --class 7").BigGanClass);
        Assert.StartsWith("--class: a class-conditional transformer takes a class id (an integer) or auto; got 'daisy'.",
            Assert.Throws<ArgumentException>(() => Read("--generator transformer --class daisy")).Message);

        var biggan = Read("--generator biggan --class \"red circle\" --candidates 4");
        Assert.Equal("red circle", biggan.BigGanClass);
        Assert.Equal(4, biggan.BigGanCandidates);
        Assert.Null(biggan.Transformer.ClassId);
        var upstream = Read("--generator biggan --class none");
        Assert.Null(upstream.BigGanClass);
        Assert.Equal(1, upstream.BigGanCandidates);   // upstream's start is one draw
        upstream.Validate();
        var plain = Read("--generator biggan");
        Assert.Equal("auto", plain.BigGanClass);      // the toolkit's start (RunRecipe.BigSleepChosen): CLIP's class
        Assert.Equal(128, plain.BigGanCandidates);
        Assert.Equal(("augmented", 32), (plain.CutMethod, plain.CutCount));
        Assert.Equal(0.01, plain.LearningRate);       // Big Sleep's Adam at 0.01, not upstream's 0.07 (chosen on the eval)
    }
}
