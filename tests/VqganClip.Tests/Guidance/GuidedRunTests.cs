using TorchSharp;
using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Prompts;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

public class GuidedRunTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _m;
    public GuidedRunTests(TinyModels models) => _m = models;

    private const string Prompt = "a red rose|a blue sky:-0.5";

    private GuidedRun NewRun(string kind, long seed, GuidanceOptions? options = null) =>
        GuidedRun.Create(_m.Make(kind), _m.Clip, Prompt, (options ?? new GuidanceOptions { CutCount = 4 }) with { Seed = seed });

    public static TheoryData<string> Kinds => new() { "vqgan", "pixels", "fourier", "strokes", "biggan" };

    // Issue 5 (VQGAN-latent loss barely falls on the fixture models), resolved: measured on the same fixed cutouts
    // (Evaluate) the VQGAN loss does fall, by 2-3% in 50 steps at 128x128 on seeds 1-3 (0.7294 -> 0.7051,
    // 0.7271 -> 0.7125, 0.7317 -> 0.7128), and decoding z without snapping falls 5-8% at 64x64: the straight-through
    // path is sound, the tiny fixture's 64 random codes in 16-D just leave few useful code flips (at 64x64, a 4x4
    // latent, the change is within cutout noise). One SGD step moves z but flips no code, so the gradient test checks
    // that every parameter moves rather than the picture.

    /// <summary>
    /// The loss of the picture, measured on a fixed set of cutouts (<see cref="GuidedRun.Evaluate"/>, so cutout luck
    /// does not count), is clearly lower after 50 steps than at step 0, on three seeds. The VQGAN case is 128x128
    /// (an 8x8 latent): the tiny fixture's 64-entry codebook in 16 dimensions leaves a 4x4 latent too few useful code
    /// flips, and it improves by a few percent where the continuous generators improve by tens of percent.
    /// </summary>
    [Theory]
    [InlineData("vqgan", 0.01)]
    [InlineData("pixels", 0.10)]
    [InlineData("fourier", 0.10)]
    [InlineData("strokes", 0.10)]
    [InlineData("biggan", 0.10)]
    public void LossFallsOverFiftyStepsOnSeveralSeeds(string kind, double minimumDrop)
    {
        foreach (var seed in new long[] { 1, 2, 3 })
        {
            var generator = kind == "vqgan" ? new VqganLatentGenerator(_m.Vqgan, 128, 128) : _m.Make(kind);
            // the classic loop's plain crops: augmented views of a tiny random CLIP make the 1 % drop a matter of luck
            using var run = GuidedRun.Create(generator, _m.Clip, Prompt, new GuidanceOptions { CutCount = 4, Seed = seed, CutMethod = CutMethod.Original });
            var start = run.Evaluate(cutCount: 16, seed: 99);
            run.Step(50);
            var end = run.Evaluate(cutCount: 16, seed: 99);
            Assert.True(end.Total < start.Total * (1 - minimumDrop),
                $"{kind} seed {seed}: loss {start.Total:F4} at step 0, {end.Total:F4} at step 50 (wanted {minimumDrop:P0} lower)");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GradientReachesTheGeneratorParameters(string kind)
    {
        using var run = NewRun(kind, 5, new GuidanceOptions { CutCount = 2 });
        var before = run.Generator.Parameters.Select(p => p.detach().clone()).ToList();
        run.Step(1);
        for (int i = 0; i < before.Count; i++)
        {
            var p = run.Generator.Parameters[i];
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{kind}: zero gradient on [{string.Join(",", p.shape)}]");
            Assert.False(before[i].eq(p).all().item<bool>(), $"{kind}: parameter [{string.Join(",", p.shape)}] did not move");
            before[i].Dispose();
        }
    }

    [Fact]
    public void StraightThroughCarriesTheGradientToTheUnsnappedLatent()
    {
        using var g = new VqganLatentGenerator(_m.Vqgan, 64, 64);
        using var rng = new Generator(9);
        g.Initialize(rng);
        using (no_grad()) g.Z.add_(randn(g.Z.shape, generator: rng) * 0.01); // off the codebook: snapping changes it
        using var img = g.Render();
        img.mean().backward();
        Assert.True(g.Z.grad!.abs().sum().item<float>() > 0);
        using var codes = g.CurrentCodes();
        Assert.Equal(new long[] { 4, 4 }, codes.shape);
    }

    [Theory]
    [InlineData("vqgan", CutMethod.Original)]
    [InlineData("strokes", CutMethod.Augmented)]
    [InlineData("biggan", CutMethod.BigSleep)]
    public void SameSeedSameBytesDifferentSeedDifferentBytes(string kind, CutMethod method)
    {
        var options = new GuidanceOptions { CutCount = 3, CutMethod = method };
        byte[] Png(long seed)
        {
            using var run = NewRun(kind, seed, options);
            run.Step(8);
            return run.CurrentImage().ToPng();
        }
        var a = Png(11);
        var b = Png(11);
        var c = Png(12);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("vqgan", CutMethod.Original, "Adam")]
    [InlineData("fourier", CutMethod.Augmented, "AdamW")]
    [InlineData("biggan", CutMethod.BigSleep, "Adam")]
    public void SaveAtTwentyAndResumeToFortyEqualsFortyStraight(string kind, CutMethod method, string optimizer)
    {
        var options = new GuidanceOptions { CutCount = 3, CutMethod = method, Optimizer = optimizer, InitWeight = 0.5, TotalVariationWeight = 0.1,
            PromptLoss = kind == "biggan" ? PromptLossKind.Cosine : PromptLossKind.Spherical };
        var dir = Path.Combine(Path.GetTempPath(), "vqgan-clip-tests", Guid.NewGuid().ToString("N"));
        try
        {
            using var straight = NewRun(kind, 21, options);
            straight.Step(40);

            using (var first = NewRun(kind, 21, options))
            {
                first.Step(20);
                first.Save(dir);
            }
            using var resumed = kind == "biggan"
                ? GuidedRun.Resume(dir, _m.Clip, generatorFactory: spec => GeneratorFactory.Create(spec, biggan: _m.BigGan))
                : GuidedRun.Resume(dir, _m.Clip, kind == "vqgan" ? _m.Vqgan : null);
            Assert.Equal(20, resumed.StepCount);
            resumed.Step(20);

            Assert.Equal(straight.CurrentImage().ToPng(), resumed.CurrentImage().ToPng());
            Assert.Equal(straight.History.Select(h => h.Total), resumed.History.Select(h => h.Total));
            Assert.Equal(straight.History.Select(h => h.Regularizers["init"]), resumed.History.Select(h => h.Regularizers["init"]));
            if (kind == "biggan")   // Big Sleep's own losses and its moving average (the picture shown) continue too
                Assert.Equal(straight.History.Select(h => h.Regularizers["latent"]), resumed.History.Select(h => h.Regularizers["latent"]));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("Adagrad")]
    [InlineData("Adamax")]
    [InlineData("RMSprop")]
    [InlineData("RAdam")]
    [InlineData("NAdam")]
    [InlineData("SGD")]
    [InlineData("adam")] // names are case-insensitive
    public void EveryOptimizerResumesExactly(string optimizer)
    {
        var options = new GuidanceOptions { CutCount = 2, Optimizer = optimizer, LearningRate = 0.05 };
        var dir = Path.Combine(Path.GetTempPath(), "vqgan-clip-tests", Guid.NewGuid().ToString("N"));
        try
        {
            using var straight = NewRun("pixels", 3, options);
            straight.Step(6);
            using (var first = NewRun("pixels", 3, options))
            {
                first.Step(3);
                first.Save(dir);
            }
            using var resumed = GuidedRun.Resume(dir, _m.Clip);
            resumed.Step(3);
            Assert.Equal(straight.History.Select(h => h.Total), resumed.History.Select(h => h.Total));
            using var a = straight.Current();
            using var b = resumed.Current();
            Assert.True(a.eq(b).all().item<bool>());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void UnknownOptimizerListsTheValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => NewRun("pixels", 1, new GuidanceOptions { Optimizer = "adamm" }));
        Assert.Contains("Unknown optimizer 'adamm'", e.Message);
        Assert.Contains("Adam, AdamW, Adagrad, Adamax, RMSprop, RAdam, NAdam, SGD", e.Message);
    }

    [Fact]
    public void ResumingSomethingThatIsNotARunSaysSo()
    {
        var dir = Directory.CreateTempSubdirectory("vqgan-clip-tests").FullName;
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => GuidedRun.Resume(dir, _m.Clip));
            Assert.Contains("is not a saved run: run.json is missing", e.Message);
            File.WriteAllText(Path.Combine(dir, GuidedRun.RunFileName), "{ not json");
            File.WriteAllBytes(Path.Combine(dir, GuidedRun.StateFileName), new byte[16]);
            var e2 = Assert.Throws<InvalidDataException>(() => GuidedRun.Resume(dir, _m.Clip));
            Assert.Contains("is not valid JSON", e2.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void HistoryRecordsEachPromptAndTheTotalIsTheirSum()
    {
        using var run = GuidedRun.Create(_m.Make("pixels"), _m.Clip, "a cat:2|a dog:-0.5:-0.2",
            new GuidanceOptions { CutCount = 2, TotalVariationWeight = 0.3, Seed = 4 });
        run.Step(3);
        Assert.Equal(3, run.History.Count);
        foreach (var h in run.History)
        {
            Assert.Equal(new[] { "a cat (2)", "a dog (-0.5)" }, h.Prompts.Select(p => p.Label));
            Assert.True(h.Prompts[0].Value > 0 && h.Prompts[1].Value < 0);
            Assert.Equal(h.Total, h.Prompts.Sum(p => p.Value) + h.Regularizers["tv"], 4);
        }
    }

    [Fact]
    public void LossReadbackEveryKStepsKeepsOnlyThoseSteps()
    {
        using var run = NewRun("pixels", 1, new GuidanceOptions { CutCount = 2, LossReadbackEvery = 4, SnapshotEvery = 5 });
        var report = run.Step(10);
        Assert.Equal(new[] { 0, 4, 8 }, run.History.Select(h => h.Step));
        Assert.Equal(new[] { 0, 5 }, run.Snapshots.Select(s => s.Step));
        Assert.Equal(9, report.Loss!.Step);   // the last step is always read back for the report
        Assert.NotNull(report.Image);
        Assert.Equal(10, report.TotalSteps);
    }

    [Fact]
    public void StoryPhasesSwitchEveryPhaseStepsAndLoop()
    {
        using var run = GuidedRun.Create(_m.Make("pixels"), _m.Clip, "a cat ^ a dog|a bird",
            new GuidanceOptions { CutCount = 2, PhaseSteps = 2, Seed = 1 }, new[] { PromptSpec.FromNoise(7, 0.5) });
        run.Step(5);
        Assert.Equal(new[] { 0, 0, 1, 1, 0 }, run.History.Select(h => h.Phase));
        Assert.Equal(new[] { "a cat", "noise:7 (0.5)" }, run.History[0].Prompts.Select(p => p.Label));
        Assert.Equal(new[] { "a dog", "a bird", "noise:7 (0.5)" }, run.History[2].Prompts.Select(p => p.Label));
    }

    [Fact]
    public void CancellationStopsBetweenStepsAndReportsIt()
    {
        using var run = NewRun("pixels", 1, new GuidanceOptions { CutCount = 2 });
        using var cts = new CancellationTokenSource();
        int updates = 0;
        var report = run.Step(100, ct: cts.Token, onUpdate: r => { if (++updates == 3) cts.Cancel(); });
        Assert.True(report.Cancelled);
        Assert.Equal(3, run.StepCount);
        Assert.Equal(3, report.Completed);
    }

    [Fact]
    public void PeekingAtCutoutsDoesNotDisturbTheRun()
    {
        using var a = NewRun("pixels", 8);
        using var b = NewRun("pixels", 8);
        using (var cuts = a.CurrentCutouts())
            Assert.Equal(new long[] { 4, 3, _m.Clip.ImageSize, _m.Clip.ImageSize }, cuts.shape);
        a.Step(3);
        b.Step(3);
        Assert.Equal(a.History.Select(h => h.Total), b.History.Select(h => h.Total));
    }

    [Fact]
    public void ImagePromptsAndTextsNamingImageFilesUseTheImageTower()
    {
        var dir = Directory.CreateTempSubdirectory("vqgan-clip-tests").FullName;
        try
        {
            var path = Path.Combine(dir, "target.png");
            using (var rng = new Generator(3))
            using (var img = rand(new long[] { 1, 3, 40, 50 }, generator: rng))
                VqganClip.Models.Images.ImageIO.Save(img, path);
            using var run = GuidedRun.Create(_m.Make("pixels"), _m.Clip, path + ":0.5|a tree",
                new GuidanceOptions { CutCount = 3, Seed = 2 }, new[] { PromptSpec.FromImage(path) });
            Assert.Equal(PromptSource.Image, run.Prompts[0].Spec.Source);
            Assert.Equal(0.5, run.Prompts[0].Weight);
            Assert.Equal(new long[] { 3, _m.Clip.EmbedDim }, run.Prompts[0].Embedding.shape); // one row per cutout
            Assert.Equal(PromptSource.Text, run.Prompts[1].Spec.Source);
            Assert.Equal(PromptSource.Image, run.Prompts[2].Spec.Source);
            var report = run.Step(2);
            Assert.Equal(3, report.Loss!.Prompts.Count);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>A step whose loss or gradient is not finite is skipped instead of poisoning the parameters.</summary>
public class NonFiniteStepTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _m;
    public NonFiniteStepTests(TinyModels models) => _m = models;

    /// <summary>Adds NaN times the picture's mean at one step.</summary>
    private sealed class PoisonAt(int step) : VqganClip.Guidance.Losses.IRegularizer
    {
        public string Name => "poison";
        public Tensor? Compute(VqganClip.Guidance.Losses.LossContext context) =>
            context.Step == step ? context.Image.mean() * double.NaN : context.Image.mean() * 0;
        public void Dispose() { }
    }

    [Fact]
    public void A_non_finite_step_is_skipped_counted_and_the_run_goes_on()
    {
        var generator = new PixelGenerator(32, 32);
        using var run = new GuidedRun(generator, _m.Clip, PromptParser.Parse("a red apple"), new GuidanceOptions { CutCount = 2, Seed = 4 },
            regularizers: [new PoisonAt(2)]);
        run.Step(2);
        using var before = generator.Parameters[0].detach().clone();
        run.Step(1);   // step 2: NaN loss
        Assert.Equal(1, run.SkippedSteps);
        Assert.Equal(3, run.StepCount);
        Assert.True(before.allclose(generator.Parameters[0], 0, 0), "a skipped step must not move the parameters");
        run.Step(2);
        Assert.Equal(1, run.SkippedSteps);
        Assert.True(generator.Parameters[0].isfinite().all().item<bool>());
        Assert.False(before.allclose(generator.Parameters[0], 0, 0), "the steps after the skipped one move the parameters again");
    }

    [Fact]
    public void The_spherical_distance_of_opposite_unit_vectors_is_finite_with_a_finite_gradient()
    {
        using var x = tensor(new float[] { 0.6f, 0.8f, 0f }).requires_grad_(true);
        using var y = tensor(new float[] { -0.6f, -0.8f, 0f });
        using var d = Prompt.SquaredSphericalDistance(x, y);
        Assert.Equal(2 * Math.Pow(Math.PI / 2, 2), d.item<float>(), 2);   // half the squared angle pi (the clamp costs 0.002)
        d.backward();
        Assert.True(x.grad!.isfinite().all().item<bool>());
        // and the reference's value everywhere else
        using var a = tensor(new float[] { 1f, 0f }); using var b = tensor(new float[] { 0f, 1f });
        Assert.Equal(2 * Math.Pow(Math.PI / 4, 2), Prompt.SquaredSphericalDistance(a, b).item<float>(), 5);
    }
}
