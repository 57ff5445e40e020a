using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;
using VqganClip.Tests.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Transformer;

/// <summary>The GPT built from a configuration: names, initialisation, mask, cache, training, and sizes other than the fixtures'.</summary>
public sealed class GptStructureTests
{
    public GptStructureTests() => EnsureTorch();

    private static readonly (double Abs, double Rel) Tight = (1e-5, 1e-5);

    [Fact]
    public void Parameter_names_and_shapes_are_tamings()
    {
        var config = new GptConfig { VocabSize = 48, BlockSize = 64, NLayer = 2, NHead = 2, NEmbd = 32 };
        using var gpt = new Gpt(config);
        var ours = gpt.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var upstream = Checkpoint.Inspect(Fixture(Cin, "last.safetensors")).Tensors
            .Where(t => t.Name.StartsWith("transformer.", StringComparison.Ordinal))
            .ToDictionary(t => t.Name["transformer.".Length..], t => t.Shape);
        Assert.Equal(upstream.Keys.OrderBy(k => k, StringComparer.Ordinal), ours.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, shape) in upstream) Assert.Equal(shape, ours[name]);
        Assert.DoesNotContain("head.bias", ours.Keys);
        Assert.Equal(config.ParameterCount, gpt.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void A_new_gpt_is_initialised_as_upstream_and_trainable()
    {
        var config = new GptConfig { VocabSize = 500, BlockSize = 16, NLayer = 2, NHead = 4, NEmbd = 64 };
        using var gpt = new Gpt(config, new Generator(7));
        Assert.True(gpt.training);
        Assert.All(gpt.parameters(), p => Assert.True(p.requires_grad));
        var sd = gpt.state_dict();
        foreach (var (name, t) in sd)
        {
            if (name.EndsWith(".attn.mask", StringComparison.Ordinal)) continue;
            if (name == "pos_emb" || name.EndsWith(".bias", StringComparison.Ordinal))
                Assert.True(t.eq(0).all().item<bool>(), $"{name} should start at zero");
            else if (name.Contains("ln", StringComparison.Ordinal))
                Assert.True(t.eq(1).all().item<bool>(), $"{name} should start at one");
            else
            {
                double std = t.std().item<float>(), mean = t.mean().item<float>();
                Assert.InRange(std, 0.018, 0.022);
                Assert.InRange(mean, -0.002, 0.002);
            }
        }
        // the same generator seed gives the same weights
        using var again = new Gpt(config, new Generator(7));
        Assert.True(sd["blocks.1.mlp.2.weight"].equal(again.state_dict()["blocks.1.mlp.2.weight"]).all().item<bool>());
    }

    [Fact]
    public void Mask_is_causal_with_the_leading_square_unmasked()
    {
        using var mask = CausalSelfAttention.BuildMask(10, 4);
        Assert.Equal(new long[] { 1, 1, 10, 10 }, mask.shape);
        Assert.Equal(1f, mask[0, 0, 0, 3].item<float>());   // inside the unmasked square: sees the future
        Assert.Equal(0f, mask[0, 0, 0, 4].item<float>());
        Assert.Equal(0f, mask[0, 0, 5, 6].item<float>());   // causal outside it
        Assert.Equal(1f, mask[0, 0, 6, 5].item<float>());
        Assert.Equal(16 + (10 * 11 / 2 - 10), mask.sum().item<float>());
        var config = new GptConfig { VocabSize = 8, BlockSize = 10, NLayer = 1, NHead = 1, NEmbd = 8, NUnmasked = 4 };
        using var gpt = new Gpt(config);
        Assert.True(gpt.Blocks[0].Attention.Mask.equal(mask).all().item<bool>());
    }

    public static TheoryData<int, int, int, int, int> Sizes => new()
    {
        // layers, heads, width, block, n_unmasked
        { 2, 2, 32, 64, 0 },
        { 3, 4, 48, 80, 3 },
        { 1, 1, 16, 12, 0 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void The_cached_forward_equals_the_full_forward(int layers, int heads, int width, int block, int unmasked)
    {
        var config = new GptConfig { VocabSize = 37, BlockSize = block, NLayer = layers, NHead = heads, NEmbd = width, NUnmasked = unmasked };
        using var gpt = new Gpt(config, new Generator(11));
        gpt.eval();
        using var scope = NewDisposeScope();
        var idx = randint(37, new long[] { 3, block }, generator: new Generator(12));
        var full = gpt.forward(idx);
        using var cache = gpt.CreateCache(3);
        // a first chunk covering the unmasked square, a chunk of several tokens, then one token at a time
        int first = Math.Max(4, unmasked), chunk = 3;
        var parts = new List<Tensor> { gpt.ForwardWithPast(idx.narrow(1, 0, first), cache) };
        parts.Add(gpt.ForwardWithPast(idx.narrow(1, first, chunk), cache, first));
        for (int t = first + chunk; t < block; t++) parts.Add(gpt.ForwardWithPast(idx.narrow(1, t, 1), cache));
        AssertClose(full, cat(parts, 1), "cached logits", Tight);
        Assert.Equal(block, cache.Length);
        Assert.Equal(new long[] { layers, 2, 3, heads, block, width / heads }, cache.ToPresents().shape);
    }

    [Fact]
    public void Sampling_keeps_no_tensor_alive()
    {
        var config = new GptConfig { VocabSize = 30, BlockSize = 40, NLayer = 2, NHead = 2, NEmbd = 16 };
        using var gpt = new Gpt(config, new Generator(1));
        using var c = zeros(new long[] { 2, 1 }, ScalarType.Int64);
        var stats = DisposeScopeManager.Statistics;
        long Live(int steps, bool cache)
        {
            long before = stats.ThreadTotalLiveCount;
            using (var tokens = GptSampler.Sample(gpt, c, steps, new SamplingOptions { TopK = 5, TopP = 0.9, Generator = new Generator(2) }, useCache: cache)) { }
            return stats.ThreadTotalLiveCount - before;
        }
        foreach (bool cache in new[] { true, false })
        {
            Assert.Equal(0, Live(5, cache));
            Assert.Equal(0, Live(39, cache));
        }
        using var one = c.narrow(0, 0, 1);
        using var codes = zeros(new long[] { 1, 5, 5 }, ScalarType.Int64);
        long beforeWindow = stats.ThreadTotalLiveCount;
        using (var result = SlidingWindowSampler.Sample(gpt, codes, one, SamplingOptions.Greedy, window: 4)) { }
        Assert.Equal(0, stats.ThreadTotalLiveCount - beforeWindow);
    }

    /// <summary>A small Net2NetTransformer of a size no fixture has: f2 VQGAN (24 codes), GPT 3 layers × 4 heads × 48, block 80, n_unmasked 2, 7 classes.</summary>
    private static Net2NetTransformer BuildOtherSize(out TransformerConfig config, double pdrop = 0, double pkeep = 1.0)
    {
        var vq = VqganTestSupport.SmallConfig(nEmbed: 24, embedDim: 8, zChannels: 32, resolution: 16);
        config = new TransformerConfig
        {
            Gpt = new GptConfig { VocabSize = 60, BlockSize = 80, NLayer = 3, NHead = 4, NEmbd = 48, NUnmasked = 2, EmbdPdrop = pdrop, ResidPdrop = pdrop, AttnPdrop = pdrop },
            FirstStage = vq,
            Conditioning = ConditioningConfig.ClassLabel(7),
            CondStageKey = "class_label",
            PKeep = pkeep,
        };
        manual_seed(3);
        var first = new VqganModel(vq);
        return new Net2NetTransformer(config, first, new Gpt(config.Gpt, new Generator(4)));
    }

    [Fact]
    public void Another_size_builds_round_trips_through_safetensors_and_is_inferred()
    {
        using var model = BuildOtherSize(out var config);
        var dir = TempDir();
        var path = Path.Combine(dir, "other.safetensors");
        SafeTensors.Write(path, model.state_dict().Select(kv => (kv.Key, kv.Value)));

        using var scope = NewDisposeScope();
        var seq = randint(60, new long[] { 2, 80 }, generator: new Generator(9));
        model.Transformer.eval();
        var expected = model.Transformer.forward(seq);

        // without YAML: everything but n_head and the conditioning is read from the weights
        using (var inferred = Net2NetTransformer.Load(path, hints: new TransformerLoadHints { NHead = 4, Conditioning = ConditioningConfig.ClassLabel(7) }, device: CPU))
        {
            var g = inferred.Config.Gpt;
            Assert.Equal((60, 80, 3, 4, 48, 2), (g.VocabSize, g.BlockSize, g.NLayer, g.NHead, g.NEmbd, g.NUnmasked));
            Assert.Equal(24, inferred.Config.FirstStage.NEmbed);
            Assert.Equal(7, inferred.Config.Conditioning.NClasses);
            AssertClose(expected, inferred.Transformer.forward(seq), "logits after reloading (inferred config)", Tight);
        }

        // with the YAML written beside it (same name): no hints needed
        File.WriteAllText(Path.Combine(dir, "other.yaml"), config.ToYaml());
        using (var fromYaml = Net2NetTransformer.Load(path, device: CPU))
        {
            Assert.Equal(config.Gpt with { Source = fromYaml.Config.Gpt.Source }, fromYaml.Config.Gpt);
            Assert.Equal(ConditioningKind.ClassLabel, fromYaml.Config.Conditioning.Kind);
            Assert.Equal("class_label", fromYaml.Config.CondStageKey);
            AssertClose(expected, fromYaml.Transformer.forward(seq), "logits after reloading (YAML)", Tight);
        }

        // the YAML round-trips
        var reread = TransformerConfig.FromYaml(config.ToYaml());
        Assert.Equal(config.Gpt with { Source = reread.Gpt.Source }, reread.Gpt);
        Assert.Equal(config.FirstStage.DdConfig.ChMult, reread.FirstStage.DdConfig.ChMult);
        Assert.Equal(Net2NetTransformer.FirstStagePrefix, reread.FirstStage.StateDictPrefix);
    }

    [Fact]
    public void Training_updates_the_gpt_only_and_lowers_the_loss()
    {
        using var model = BuildOtherSize(out _);
        model.train();
        Assert.True(model.Transformer.training);
        Assert.False(model.FirstStage.training);
        using var scope = NewDisposeScope();
        var z = randint(24, new long[] { 4, 64 }, generator: new Generator(5));
        var c = randint(7, new long[] { 4, 1 }, generator: new Generator(6));
        var (decay, noDecay) = model.Transformer.OptimizerGroups();
        Assert.Contains(decay, d => d.Name == "head.weight");
        Assert.Contains(noDecay, d => d.Name == "pos_emb");
        Assert.Contains(noDecay, d => d.Name == "tok_emb.weight");
        Assert.Equal(model.Transformer.parameters().Count(), decay.Count + noDecay.Count);
        var optimizer = optim.AdamW(new[]
        {
            // upstream's configure_optimizers: decay 0.01 on Linear weights, none elsewhere, betas (0.9, 0.95)
            new TorchSharp.Modules.AdamW.ParamGroup(decay.Select(d => d.Parameter), lr: 3e-3, beta1: 0.9, beta2: 0.95, weight_decay: 0.01),
            new TorchSharp.Modules.AdamW.ParamGroup(noDecay.Select(d => d.Parameter), lr: 3e-3, beta1: 0.9, beta2: 0.95, weight_decay: 0.0),
        }, 3e-3, 0.9, 0.95);
        double firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 20; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var (logits, target) = model.ForwardTokens(z, c);
            Assert.Equal(new long[] { 4, 64, 60 }, logits.shape);
            var loss = Net2NetTransformer.Loss(logits, target);
            loss.backward();
            if (step == 0)
            {
                Assert.All(model.Transformer.parameters(), p => Assert.NotNull(p.grad));
                Assert.All(model.FirstStage.parameters(), p => Assert.Null(p.grad));
                firstLoss = loss.item<float>();
            }
            optimizer.step();
            lastLoss = loss.item<float>();
        }
        Assert.True(lastLoss < firstLoss - 0.5, $"loss went from {firstLoss} to {lastLoss}");
    }

    [Fact]
    public void Dropout_and_pkeep_act_in_training_mode_only()
    {
        using var model = BuildOtherSize(out _, pdrop: 0.2, pkeep: 0.5);
        using var scope = NewDisposeScope();
        var z = randint(24, new long[] { 2, 64 }, generator: new Generator(5));
        var c = randint(7, new long[] { 2, 1 }, generator: new Generator(6));
        model.train();
        var a = model.ForwardTokens(z, c, new Generator(1)).Logits;
        var b = model.ForwardTokens(z, c, new Generator(2)).Logits;
        Assert.False(a.allclose(b));
        var (_, target) = model.ForwardTokens(z, c, new Generator(3));
        Assert.True(target.equal(z).all().item<bool>());
        model.eval();
        var e1 = model.ForwardTokens(z, c).Logits;
        var e2 = model.ForwardTokens(z, c).Logits;
        Assert.True(e1.equal(e2).all().item<bool>());
    }
}
