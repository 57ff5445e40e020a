using TorchSharp;
using VqganClip.Guidance;
using VqganClip.Guidance.Autograd;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.Clip;
using VqganClip.Tests.Guidance;
using static TorchSharp.torch;

namespace VqganClip.Tests.Perf;

/// <summary>
/// The guidance step's shortcuts (docs/performance.md) change no bit: each is compared with the way it was computed
/// before, value and gradient, with exact equality.
/// </summary>
public class LoopFastPathTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _m;
    public LoopFastPathTests(TinyModels models) => _m = models;

    private static void AssertBitEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        bool same = expected.contiguous().bytes.ToArray().AsSpan().SequenceEqual(actual.contiguous().bytes.ToArray());
        Assert.True(same, $"{what}: not the same bits (max diff {(expected - actual).abs().max().item<float>()})");
    }

    [Fact]
    public void CropCutoutsWithoutTheProjectiveDivideAreBitForBitTheDividedOnes()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var cutouts = new OriginalCutouts(32, 8);
        var boxes = cutouts.DrawBoxes(100, 90, g);   // sizes 32..90: pre-filter levels 1 and 2
        var matrices = boxes.Select(b => b.ToMatrix()).ToList();
        var ratios = boxes.Select(b => (double)b.Size / 32).ToList();
        Assert.True(ratios.Select(CutoutSampler.PoolFactor).Distinct().Count() > 1, "want more than one pool level");

        (Tensor Value, Tensor Grad) Run(bool skip)
        {
            var picture = rand(new long[] { 1, 3, 100, 90 }, generator: new Generator(4)).requires_grad_(true);
            var cuts = CutoutSampler.Sample(picture, matrices, ratios, 32, skipDivideForAffine: skip);
            (cuts * cuts.detach().flip(0)).sum().backward();
            return (cuts.detach(), picture.grad!);
        }
        var fast = Run(skip: true);
        var divided = Run(skip: false);
        AssertBitEqual(divided.Value, fast.Value, "cutouts");
        AssertBitEqual(divided.Grad, fast.Grad, "gradient");
    }

    /// <summary>The prompt loss as it was written before the shortcuts for weight ±1 and the same device.</summary>
    private static Tensor LossAsBefore(Prompt p, Tensor imageEmbeds)
    {
        var input = nn.functional.normalize(imageEmbeds.unsqueeze(1), dim: 2);
        var target = p.Embedding.to(imageEmbeds.device).unsqueeze(0);
        var dists = Prompt.SquaredSphericalDistance(input, target);
        dists = dists * Math.Sign(p.Weight);
        if (!double.IsNegativeInfinity(p.Stop)) dists = GradientTricks.ReplaceGrad(dists, dists.clamp_min(p.Stop));
        return dists.mean() * Math.Abs(p.Weight);
    }

    [Theory]
    [InlineData(1.0, double.NegativeInfinity)]
    [InlineData(1.0, 0.35)]
    [InlineData(-1.0, double.NegativeInfinity)]
    [InlineData(2.5, double.NegativeInfinity)]
    [InlineData(-0.5, -0.4)]
    [InlineData(0.0, double.NegativeInfinity)]
    public void ThePromptLossIsBitForBitWhatItWasForEveryWeightAndStop(double weight, double stop)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var embed = randn(new long[] { 3, 16 }, generator: g);
        var x = randn(new long[] { 8, 16 }, generator: g);
        using var p = new Prompt(PromptSpec.FromText("t", weight, stop), embed);
        (Tensor Value, Tensor Grad) Run(Func<Tensor, Tensor> loss)
        {
            var leaf = x.clone().requires_grad_(true);
            var value = loss(leaf);
            value.backward();
            return (value.detach(), leaf.grad!);
        }
        var now = Run(p.Loss);
        var before = Run(e => LossAsBefore(p, e));
        AssertBitEqual(before.Value, now.Value, "loss");
        AssertBitEqual(before.Grad, now.Grad, "gradient");
    }

    [Fact]
    public void TheRunsCachedNormalisationIsBitForBitClipNormalize()
    {
        using var scope = NewDisposeScope();
        using var run = GuidedRun.Create(new PixelGenerator(40, 40), _m.Clip, "a red rose", new GuidanceOptions { CutCount = 2, Seed = 1 });
        using var g = new Generator(2);
        for (int i = 0; i < 2; i++)   // the second call uses the cached constants
        {
            var pixels = rand(new long[] { 5, 3, 32, 32 }, generator: g);
            AssertBitEqual(ClipModel.Normalize01(pixels), run.NormalizeForClip(pixels), "normalised pixels");
        }
    }

    [Fact]
    public void OnePromptsHistoryTotalIsItsPromptsValue()
    {
        using var run = GuidedRun.Create(new PixelGenerator(40, 40), _m.Clip, "a red rose", new GuidanceOptions { CutCount = 2, Seed = 1 });
        var report = run.Step(3);
        Assert.Equal(3, run.History.Count);
        foreach (var h in run.History) Assert.Equal(h.Prompts.Single().Value, h.Total);
        Assert.Equal(report.Loss!.Prompts.Single().Value, report.Loss.Total);
    }

    [Fact]
    public void TheDecoderGetsAContiguousLatentAndTheSamePictureAsFromAContiguousCopy()
    {
        using var scope = NewDisposeScope();
        using var generator = new VqganLatentGenerator(_m.Vqgan, 64, 64);
        using var rng = new Generator(5);
        generator.Initialize(rng);
        using var _ = no_grad();
        // Synthesize snaps [b,h,w,d] rows and permutes back: the decoder must see NCHW strides, not channels-last
        var zq = CodebookSnap.Snap(generator.Z.permute(0, 2, 3, 1), _m.Vqgan.Codebook).permute(0, 3, 1, 2);
        Assert.False(zq.is_contiguous());
        var viaSynthesize = VqganLatentGenerator.Synthesize(_m.Vqgan, generator.Z);
        var viaContiguous = _m.Vqgan.Decode(zq.contiguous()).add(1).div(2).clamp(0, 1);
        AssertBitEqual(viaContiguous, viaSynthesize, "picture");
    }
}
