using VqganClip.Guidance;
using VqganClip.Guidance.BigSleep;
using VqganClip.Guidance.Generators;
using VqganClip.Models.BigGan;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

/// <summary>
/// The start CLIP chooses for Big Sleep (<see cref="BigSleepStart"/>) on the bigsleep-biggan-tiny fixture (10 classes)
/// and the tiny CLIP: the class given or chosen zero-shot, every latent row on that class alone, the best of K seeded
/// latents by the run's own evaluation, and the errors.
/// </summary>
public sealed class BigSleepStartTests : IClassFixture<TinyModels>
{
    private static readonly ClassNames Names = ClassNames.Of(
        ["red rose", "daisy", "tulip", "sunflower", "orchid", "lily", "poppy", "violet", "iris", "lotus"], "test names");

    private readonly TinyModels _m;
    public BigSleepStartTests(TinyModels models) => _m = models;

    private GuidedRun NewRun(string prompt = "a red rose", long seed = 4) =>
        GuidedRun.Create(new BigSleepGenerator(_m.BigGan), _m.Clip, prompt, RunRecipe.BigSleepOriginal.ToOptions(seed) with { CutCount = 4 });

    /// <summary>The k-th latents the start draws for a run of <paramref name="seed"/>: N(0, 1) from a CPU generator seeded with it.</summary>
    private static Tensor Draw(long seed, int k, long[] shape)
    {
        using var rng = new Generator((ulong)seed, CPU);
        Tensor? t = null;
        for (int i = 0; i <= k; i++)
        {
            t?.Dispose();
            t = normal(0, 1, shape, generator: rng);
        }
        return t!;
    }

    [Fact]
    public void A_given_class_starts_every_latent_row_on_that_class_alone_from_the_seeds_latents()
    {
        using var run = NewRun();
        var g = (BigSleepGenerator)run.Generator;
        var start = BigSleepStart.Apply(run, "3", 1, null);
        Assert.Equal(3, start.ClassId);
        Assert.False(start.ChosenByClip);
        Assert.Null(start.Ranking);
        using var vectors = g.CurrentClassVectors();
        Assert.Equal(g.Model.NumLatents, vectors.shape[0]);
        for (int row = 0; row < vectors.shape[0]; row++)
            for (int c = 0; c < 10; c++)
            {
                float v = vectors[row, c].item<float>();
                if (c == 3) Assert.True(v > 0.9998f, $"row {row}: class 3 at {v}");
                else Assert.True(v < 2e-4f, $"row {row}: class {c} at {v}");
            }
        using var expected = Draw(4, 0, g.Latents.shape);
        Assert.True(g.Latents.detach().cpu().equal(expected).all().item<bool>(), "the latents are the seed's first N(0, 1) draw");
    }

    [Fact]
    public void A_class_name_is_found_whatever_its_case()
    {
        using var run = NewRun();
        var start = BigSleepStart.Apply(run, "  Sunflower ", 1, Names);
        Assert.Equal(3, start.ClassId);
        Assert.Equal("sunflower", start.ClassName);
        Assert.Contains("class 3 'sunflower' (given)", start.Describe());
    }

    [Fact]
    public void Clip_chooses_the_class_whose_written_name_is_the_prompt()
    {
        // the prompt is class 7's name written with the template: its text embedding is the prompt's, distance 0
        using var run = NewRun("a photo of a violet.");
        var start = BigSleepStart.Apply(run, "auto", 1, Names);
        Assert.True(start.ChosenByClip);
        Assert.Equal(7, start.ClassId);
        Assert.Equal("violet", start.ClassName);
        Assert.Equal(10, start.Ranking!.Count);
        Assert.Equal(7, start.Ranking[0].ClassId);
        Assert.True(start.Ranking[0].Loss < 1e-5, $"the prompt's own text is at distance {start.Ranking[0].Loss}");
        Assert.Equal(start.Ranking.OrderBy(c => c.Loss).Select(c => c.ClassId), start.Ranking.Select(c => c.ClassId));
        using var vectors = ((BigSleepGenerator)run.Generator).CurrentClassVectors();
        Assert.Equal(7, vectors[0].argmax().item<long>());
    }

    [Fact]
    public void Of_several_candidates_the_one_the_runs_evaluation_rates_best_is_kept_and_the_choice_repeats()
    {
        using var run = NewRun();
        var g = (BigSleepGenerator)run.Generator;
        var start = BigSleepStart.Apply(run, "2", 5, null);
        Assert.Equal(5, start.CandidateLosses.Count);
        Assert.All(start.CandidateLosses, l => Assert.True(double.IsFinite(l)));
        Assert.Equal(start.CandidateLosses.Min(), start.CandidateLosses[start.Kept]);
        Assert.True(start.CandidateLosses.Distinct().Count() > 1, "different latents draw different pictures");
        // what is kept is that candidate's draw, and the run measures it as the start did
        using var expected = Draw(4, start.Kept, g.Latents.shape);
        Assert.True(g.Latents.detach().cpu().equal(expected).all().item<bool>());
        Assert.Equal(start.CandidateLosses[start.Kept], run.Evaluate(BigSleepStart.EvaluationCutouts).Prompts.Sum(p => p.Value), 5);

        using var again = NewRun();
        var second = BigSleepStart.Apply(again, "2", 5, null);
        Assert.Equal(start.CandidateLosses, second.CandidateLosses);
        Assert.True(((BigSleepGenerator)again.Generator).Latents.detach().cpu().equal(g.Latents.detach().cpu()).all().item<bool>());
        // the run goes on from it: a step changes the start
        run.Step(1);
        Assert.False(g.Latents.detach().cpu().equal(expected).all().item<bool>());
    }

    [Theory]
    [InlineData("10", null, 1, "The class 10 is not one of the BigGAN's classes 0-9.")]
    [InlineData("-1", null, 1, "The class -1 is not one of the BigGAN's classes 0-9.")]
    [InlineData("rose", "names", 1, "The class 'rose' is not one of the BigGAN's class names (test names)")]
    [InlineData("daisy", null, 1, "The class 'daisy' is a name, and this BigGAN's classes have no names: give the class id (0-9).")]
    [InlineData("auto", null, 1, "CLIP chooses the BigGAN's class by its name, and this model's 10 classes have no names")]
    [InlineData("2", null, 0, "candidates must be at least 1; got 0.")]
    public void Bad_starts_are_refused_by_name(string spec, string? names, int candidates, string message)
    {
        using var run = NewRun();
        var e = Assert.ThrowsAny<ArgumentException>(() => BigSleepStart.Apply(run, spec, candidates, names is null ? null : Names));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Names_that_do_not_name_the_models_classes_are_refused()
    {
        using var run = NewRun();
        var e = Assert.Throws<InvalidDataException>(() => BigSleepStart.Apply(run, "auto", 1, ClassNames.Of(["a", "b"], "two names")));
        Assert.Contains("name 2 classes but the model has 10", e.Message);
    }

    [Fact]
    public void A_start_is_for_a_biggan_run_that_has_not_stepped()
    {
        using var pixels = GuidedRun.Create(_m.Make("pixels"), _m.Clip, "a red rose");
        Assert.StartsWith("A Big Sleep start is for the biggan generator; this run's is pixels.",
            Assert.Throws<ArgumentException>(() => BigSleepStart.Apply(pixels, "1", 1, null)).Message);
        using var run = NewRun();
        run.Step(1);
        Assert.StartsWith("A Big Sleep start is chosen before the first step; this run is at step 1.",
            Assert.Throws<ArgumentException>(() => BigSleepStart.Apply(run, "1", 1, null)).Message);
    }

    [Fact]
    public void The_recipe_applies_the_start_and_says_what_it_chose()
    {
        var recipe = RunRecipe.BigSleepOriginal with { Prompt = "a red rose", Seed = 4, CutCount = 4, BigGanClass = "5", BigGanCandidates = 3 };
        var lines = new List<string>();
        using var run = recipe.CreateRun(_m.Clip, null, _m.BigGan, report: lines.Add);
        var line = Assert.Single(lines);
        Assert.StartsWith("Start: class 5 (given), best of 3 latents: candidate ", line);
        using var vectors = ((BigSleepGenerator)run.Generator).CurrentClassVectors();
        Assert.Equal(5, vectors[0].argmax().item<long>());

        Assert.StartsWith("Candidate latents are drawn for a class",
            Assert.Throws<ArgumentException>(() => (recipe with { BigGanClass = null }).Validate()).Message);
        Assert.StartsWith($"The biggan start's candidates must be between 1 and {RunRecipe.MaxBigGanCandidates}; got 0.",
            Assert.Throws<ArgumentException>(() => (recipe with { BigGanCandidates = 0 }).Validate()).Message);
    }

    [Fact]
    public void A_biggan_reads_the_class_names_beside_its_weights()
    {
        var dir = Directory.CreateTempSubdirectory("biggan-names").FullName;
        try
        {
            var weights = Path.Combine(dir, "model.safetensors");
            File.Copy(TinyModels.BigGanPath, weights);
            var config = TestSetup.Fixtures("biggan-deep-tiny", "config.json");
            using (var none = BigGanModel.Load(weights, config)) Assert.Null(none.ClassNames);
            File.WriteAllLines(Path.Combine(dir, "model.classes.txt"), Names.Names);
            using (var named = BigGanModel.Load(weights, config)) Assert.Equal(Names.Names, named.ClassNames!.Names);
            File.WriteAllLines(Path.Combine(dir, "model.classes.txt"), Names.Names.Take(9));
            var e = Assert.Throws<InvalidDataException>(() => BigGanModel.Load(weights, config));
            Assert.Contains("name 9 classes but the model has 10", e.Message);
            Assert.Contains(weights, e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
