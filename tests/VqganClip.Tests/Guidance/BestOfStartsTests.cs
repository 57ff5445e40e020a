using VqganClip.Guidance;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

public class BestOfStartsTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _m;
    public BestOfStartsTests(TinyModels models) => _m = models;

    private const string Prompt = "a red rose|a blue sky:-0.5";

    private GuidedRun NewRun(long seed) =>
        GuidedRun.Create(_m.Make("pixels"), _m.Clip, Prompt, new GuidanceOptions { CutCount = 4, Seed = seed });

    [Fact]
    public void The_kept_start_is_the_one_with_the_lowest_measured_loss_and_goes_on_like_a_plain_run_of_its_seed()
    {
        var made = new List<GuidedRun>();
        var (best, candidates) = BestOfStarts.Choose(k => { var r = NewRun(10 + k); made.Add(r); return r; }, starts: 3, trialSteps: 5);
        using (best)
        {
            Assert.Equal(new long[] { 10, 11, 12 }, candidates.Select(c => c.Seed));
            var lowest = candidates.MinBy(c => c.Loss)!;
            Assert.Equal(lowest.Seed, best.Options.Seed);
            Assert.Equal(5, best.StepCount);
            Assert.Equal(lowest.Loss, best.Evaluate(BestOfStarts.EvaluationCutouts).Total, 6);
            // the others were disposed: using them throws
            foreach (var other in made.Where(r => !ReferenceEquals(r, best)))
                Assert.Throws<ObjectDisposedException>(() => other.Evaluate());

            // the kept run continues exactly as a straight run of its seed
            best.Step(3);
            using var straight = NewRun(best.Options.Seed);
            straight.Step(8);
            using var a = best.Current();
            using var b = straight.Current();
            Assert.True((a - b).abs().max().item<float>() == 0, "best-of-starts run differs from the straight run of its seed");
        }
    }

    [Fact]
    public void One_start_is_the_plain_run_and_bad_counts_are_named()
    {
        var (only, candidates) = BestOfStarts.Choose(k => NewRun(7 + k), starts: 1, trialSteps: 0);
        using (only)
        {
            Assert.Equal(0, only.StepCount);
            Assert.Equal(7, Assert.Single(candidates).Seed);
        }
        var e = Assert.Throws<ArgumentException>(() => BestOfStarts.Choose(k => NewRun(k), starts: 0, trialSteps: 5));
        Assert.Contains("starts must be at least 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => BestOfStarts.Choose(k => NewRun(k), starts: 2, trialSteps: 0));
        Assert.Contains("trial steps", e.Message);
    }
}
