using TorchSharp;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Transformer;

/// <summary>Classifier-free guidance in <see cref="GptSampler"/>: logits l_u + s · (l_c − l_u) from a second, unconditional half of the batch.</summary>
public sealed class GuidedSamplingTests
{
    public GuidedSamplingTests() => EnsureTorch();

    private static readonly GptConfig Config = new() { VocabSize = 40, BlockSize = 24, NLayer = 2, NHead = 2, NEmbd = 16, NUnmasked = 3 };

    private static (Tensor Cond, Tensor Uncond) Conditioning() =>
        (tensor(new long[,] { { 30, 31, 32 }, { 33, 34, 35 } }), tensor(new long[,] { { 39, 39, 39 }, { 39, 39, 39 } }));

    private static Tensor Sample(Gpt gpt, Tensor c, double scale, bool cache, Tensor? u = null, ulong seed = 5) =>
        GptSampler.Sample(gpt, c, 12, new SamplingOptions { GuidanceScale = scale, TopK = 8, Generator = new Generator(seed) }, useCache: cache, unconditional: u);

    [Fact]
    public void Scale_zero_samples_the_unconditional_model_and_cache_does_not_change_the_tokens()
    {
        using var gpt = new Gpt(Config, new Generator(3));
        var (c, u) = Conditioning();
        // s = 0: the logits are the unconditional half's, so the draws are those of sampling from u alone
        using var guided = Sample(gpt, c, 0.0, cache: true, u);
        using var plain = Sample(gpt, u, 1.0, cache: true);
        AssertIdentical(plain, guided, "tokens at guidance 0 against sampling the unconditional sequence");
        // and the conditional model differs from it, so the comparison can fail
        using var conditional = Sample(gpt, c, 1.0, cache: true);
        Assert.False(conditional.eq(plain).all().item<bool>(), "the conditioning should change the samples of this GPT");
        foreach (double scale in new[] { 0.0, 3.0 })
        {
            using var cached = Sample(gpt, c, scale, cache: true, u);
            using var uncached = Sample(gpt, c, scale, cache: false, u);
            AssertIdentical(cached, uncached, $"guided tokens with and without the cache (scale {scale})");
        }
    }

    [Fact]
    public void Each_guided_step_draws_from_the_extrapolated_logits()
    {
        using var gpt = new Gpt(Config, new Generator(4));
        gpt.eval();
        var (c, u) = Conditioning();
        const double scale = 2.5;
        using var greedy = GptSampler.Sample(gpt, c, 6, SamplingOptions.Greedy with { GuidanceScale = scale }, unconditional: u);
        // replay: at every step the argmax of l_u + s (l_c - l_u) over the tokens chosen so far
        using var _ = no_grad();
        for (int t = 0; t < 6; t++)
        {
            var lc = gpt.forward(cat([c, greedy.narrow(1, 0, t)], 1)).select(1, -1);
            var lu = gpt.forward(cat([u, greedy.narrow(1, 0, t)], 1)).select(1, -1);
            var expected = (lu + scale * (lc - lu)).argmax(1);
            AssertIdentical(expected, greedy.select(1, t), $"guided greedy token {t}");
        }
        // greedy at scale 2.5 differs from unguided greedy somewhere, so the replay tests the guidance
        using var unguided = GptSampler.Sample(gpt, c, 6, SamplingOptions.Greedy);
        Assert.False(unguided.eq(greedy).all().item<bool>(), "guidance should change some greedy token of this GPT");
    }

    [Fact]
    public void Bad_guidance_input_is_named()
    {
        using var gpt = new Gpt(Config, new Generator(3));
        var (c, u) = Conditioning();
        var missing = Assert.Throws<ArgumentException>(() => Sample(gpt, c, 2.0, cache: true));
        Assert.Contains("needs the unconditional conditioning", missing.Message);
        var shorter = Assert.Throws<ArgumentException>(() => Sample(gpt, c, 2.0, cache: true, u.narrow(1, 0, 2)));
        Assert.Contains("has 2 tokens, the conditioning 3", shorter.Message);
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => Sample(gpt, c, -1.0, cache: true, u));
        Assert.Contains("guidance scale must be a number >= 0 (got -1", negative.Message);
        using var codes = zeros(new long[] { 2, 5, 5 }, ScalarType.Int64);
        var window = Assert.Throws<ArgumentException>(() =>
            SlidingWindowSampler.Sample(gpt, codes, c, new SamplingOptions { GuidanceScale = 2 }, window: 4));
        Assert.Contains("does not apply classifier-free guidance (scale 2)", window.Message);
    }
}
