using VqganClip.Guidance.Optimization;
using TorchSharp;
using VqganClip.Training;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

public class TrainingPiecesTests
{
    [Fact]
    public void Batches_are_a_function_of_seed_and_step()
    {
        var (a, captionsA) = ClipartBatches.Scenes(3, 10, 6);
        var (b, captionsB) = ClipartBatches.Scenes(3, 10, 6);
        var (c, _) = ClipartBatches.Scenes(3, 11, 6);
        var (d, _) = ClipartBatches.Scenes(4, 10, 6);
        Assert.Equal(a, b);
        Assert.Equal(captionsA, captionsB);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
    }

    [Fact]
    public void Held_out_seed_lies_outside_every_training_step_seed()
    {
        var seeds = new HashSet<int>();
        for (long seed = 0; seed < 4; seed++)
            for (long step = 0; step < 5000; step++)
            {
                int s = ClipartBatches.StepSeed(seed, step);
                Assert.InRange(s, 0, (1 << 30) - 1);
                seeds.Add(s);
            }
        Assert.True(ClipartBatches.HeldOutSeed >= 1 << 30);
        Assert.True(seeds.Count > 19_990, $"step seeds should practically never repeat ({seeds.Count} distinct of 20000)");
        var (heldOut, _) = ClipartBatches.HeldOut(50);
        var (training, _) = ClipartBatches.Scenes(1, 0, 50);
        Assert.Empty(heldOut.Intersect(training));
    }

    [Fact]
    public void Learning_rate_warms_up_then_decays_to_the_floor()
    {
        var schedule = Schedules.WarmupCosine(warmupSteps: 10, totalSteps: 110, minFactor: 0.1);
        double At(int step) => schedule.LearningRate(step, 1e-3);
        Assert.Equal(1e-4, At(0), 12);
        Assert.Equal(1e-3, At(9), 12);
        Assert.Equal(1e-3, At(10), 12);
        Assert.Equal(0.55e-3, At(60), 12);
        Assert.Equal(1e-4, At(110), 12);
        Assert.True(At(30) > At(31));
        Assert.Equal(At(60), Schedules.Parse(schedule.Describe()!).LearningRate(60, 1e-3));
    }

    [Fact]
    public void KMeans_finds_well_separated_clusters()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var centers = tensor(new float[] { 0, 0, 10, 10, -10, 10 }).reshape(3, 2);
        var data = cat([centers[0] + 0.1 * randn(50, 2, generator: g), centers[1] + 0.1 * randn(50, 2, generator: g), centers[2] + 0.1 * randn(50, 2, generator: g)]);
        var found = KMeans.Fit(data, 3, iterations: 10, seed: 1);
        // Every true centre has a found centre within 0.1.
        var distances = cdist(centers, found).min(1).values;
        Assert.True(distances.max().item<float>() < 0.1f, $"distances {string.Join(", ", distances.data<float>().ToArray())}");
    }

    [Fact]
    public void Row_sparse_Adam_matches_dense_Adam_on_rows_it_updates_and_leaves_the_rest()
    {
        using var scope = NewDisposeScope();
        var init = torch.linspace(-1, 1, 12).reshape(4, 3);
        var dense = new TorchSharp.Modules.Parameter(init.clone());
        var sparse = new TorchSharp.Modules.Parameter(init.clone());
        using var adam = optim.Adam([dense], lr: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-6);
        using var lazy = new RowSparseAdam(sparse, beta1: 0.9, beta2: 0.98, eps: 1e-6);
        var rows = tensor(new long[] { 0, 2 });
        var target = torch.ones(4, 3);
        for (int i = 0; i < 5; i++)
        {
            // Only rows 0 and 2 get gradient.
            adam.zero_grad();
            (dense.index_select(0, rows) - target.index_select(0, rows)).pow(2).sum().backward();
            adam.step();
            (sparse.index_select(0, rows) - target.index_select(0, rows)).pow(2).sum().backward();
            lazy.Step(rows, 0.01);
        }
        using var _ = no_grad();
        Assert.True(torch.allclose(sparse.index_select(0, rows), dense.index_select(0, rows), rtol: 1e-5, atol: 1e-6));
        var untouched = tensor(new long[] { 1, 3 });
        Assert.True(Same(sparse.index_select(0, untouched), init.index_select(0, untouched)));
    }

    [Fact]
    public void Augmentation_is_seeded_keeps_range_and_is_the_identity_when_switched_off()
    {
        using var scope = NewDisposeScope();
        var (specs, _) = ClipartBatches.HeldOut(4);
        var images = ClipartBatches.Render(specs);
        var augment = new ClipAugment();
        using var g1 = new Generator(11);
        using var g2 = new Generator(11);
        var a = augment.Apply(images, g1);
        var b = augment.Apply(images, g2);
        Assert.Equal(images.shape, a.shape);
        Assert.True(Same(a, b), "same generator seed, same views");
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        Assert.False(Same(a, images));

        using var g3 = new Generator(11);
        var identity = new ClipAugment { CropProbability = 0, BrightnessJitter = 0, NoiseStd = 0 }.Apply(images, g3);
        Assert.True(torch.allclose(identity, images, rtol: 0, atol: 1e-5), "no crop, no jitter: the images themselves");
    }
}
