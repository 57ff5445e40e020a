using VqganClip.Models.IO;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Transformer;

/// <summary>
/// The class-conditional tiny Net2NetTransformer in fixtures/taming-transformer-cin-tiny (made by the upstream
/// taming code), opened from each file, against the outputs recorded in its io.safetensors (see manifest.json).
/// </summary>
public sealed class TransformerFixtureParityTests
{
    public TransformerFixtureParityTests() => EnsureTorch();

    private static readonly (double Abs, double Rel) Tol = Tolerance(Cin);

    private const string SafetensorsWithYaml = "last.safetensors + explicit YAML";

    public static TheoryData<string> Sources => new()
    {
        "last.ckpt in a Lightning log folder (configs/*-project.yaml found)",
        SafetensorsWithYaml,
        "last.safetensors alone (configuration inferred with n_head and Labelator hints)",
    };

    private static Net2NetTransformer Open(string source)
    {
        if (source.StartsWith("last.ckpt", StringComparison.Ordinal))
            return Net2NetTransformer.Load(LightningLogFolder(Cin, "last.ckpt"), device: CPU);
        if (source.Contains("explicit", StringComparison.Ordinal))
        {
            var yaml = Path.Combine(TempDir(), "model-project.yaml");
            File.WriteAllText(yaml, ProjectYaml(Cin));
            return Net2NetTransformer.Load(Fixture(Cin, "last.safetensors"), yaml, device: CPU);
        }
        var dir = TempDir();
        var copy = Path.Combine(dir, "weights.safetensors");
        File.Copy(Fixture(Cin, "last.safetensors"), copy);
        var hints = new TransformerLoadHints { NHead = 2, Conditioning = ConditioningConfig.ClassLabel(10) };
        return Net2NetTransformer.Load(copy, hints: hints, device: CPU);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Configuration_is_the_manifests(string source)
    {
        using var model = Open(source);
        var c = model.Config;
        Assert.Equal(48, c.Gpt.VocabSize);
        Assert.Equal(64, c.Gpt.BlockSize);
        Assert.Equal(2, c.Gpt.NLayer);
        Assert.Equal(2, c.Gpt.NHead);
        Assert.Equal(32, c.Gpt.NEmbd);
        Assert.Equal(0, c.Gpt.NUnmasked);
        Assert.Equal(ConditioningKind.ClassLabel, c.Conditioning.Kind);
        Assert.Equal(10, c.Conditioning.NClasses);
        Assert.Equal(48, c.FirstStage.NEmbed);
        Assert.Equal(8, c.FirstStage.EmbedDim);
        Assert.IsType<Labelator>(model.CondStage);
        Assert.False(model.Transformer.training);
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Logits_and_loss_match(string source)
    {
        using var model = Open(source);
        using var io = SafeTensors.Read(Fixture(Cin, "io.safetensors"));
        var seq = io["inputs.seq"];
        using var scope = NewDisposeScope();
        var input = seq.narrow(1, 0, seq.shape[1] - 1);
        var targets = seq.narrow(1, 1, seq.shape[1] - 1);
        var (logits, loss) = model.Transformer.ForwardWithLoss(input, targets);
        AssertClose(io["outputs.logits"], logits, $"{source}: logits", Tol);
        AssertClose(io["outputs.ce_loss"], loss.reshape(1), $"{source}: ce_loss", Tol);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Greedy_samples_match_with_and_without_the_cache(string source)
    {
        using var model = Open(source);
        using var io = SafeTensors.Read(Fixture(Cin, "io.safetensors"));
        using var scope = NewDisposeScope();
        var c = model.EncodeToC(io["inputs.class"]);
        AssertIdentical(io["inputs.class"], c, "Labelator tokens");
        var expected = io["outputs.greedy_tokens"];
        foreach (bool cache in new[] { true, false })
        {
            var tokens = model.Sample(c, 64, SamplingOptions.Greedy, useCache: cache);
            AssertIdentical(expected, tokens, $"{source}: greedy tokens (cache {cache})");

            var half = model.Sample(c, 32, SamplingOptions.Greedy, prefix: expected.narrow(1, 0, 32), useCache: cache);
            AssertIdentical(io["outputs.greedy_half_completion"], half, $"{source}: half completion (cache {cache})");
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Step_probabilities_of_the_recorded_sampled_run_match(string source)
    {
        using var model = Open(source);
        using var io = SafeTensors.Read(Fixture(Cin, "io.safetensors"));
        using var scope = NewDisposeScope();
        var sampled = io["outputs.sampled_tokens_topk5_t08"];
        var options = new SamplingOptions { Temperature = 0.8, TopK = 5 };
        var probs = GptSampler.StepProbabilities(model.Transformer, io["inputs.class"], sampled, options);
        AssertClose(io["outputs.sampled_step_probs"], probs, $"{source}: per-step probabilities", Tol);
        // every recorded token was possible at its step (top-5 after temperature 0.8)
        var chosen = probs.gather(2, sampled.unsqueeze(2));
        Assert.True(chosen.gt(0).all().item<bool>(), "a recorded token has zero probability at its step");
        Assert.True(probs.gt(0).sum(2).le(5).all().item<bool>(), "more than 5 tokens kept at a step");

        // the cached path gives the same distributions when fed the recorded tokens one at a time
        using var cache = model.Transformer.CreateCache(2);
        var first = model.Transformer.ForwardWithPast(io["inputs.class"], cache);
        var rows = new List<Tensor> { TokenChooser.Probabilities(first.select(1, -1), options) };
        for (int t = 0; t < sampled.shape[1] - 1; t++)
        {
            var logits = model.Transformer.ForwardWithPast(sampled.narrow(1, t, 1), cache);
            rows.Add(TokenChooser.Probabilities(logits.select(1, -1), options));
        }
        AssertClose(io["outputs.sampled_step_probs"], stack(rows, 1), $"{source}: per-step probabilities through the cache", Tol);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Decoded_pictures_match(string source)
    {
        using var model = Open(source);
        using var io = SafeTensors.Read(Fixture(Cin, "io.safetensors"));
        using var decoded = model.DecodeToImage(io["outputs.greedy_tokens"], new long[] { 2, 8, 8, 8 });
        AssertClose(io["outputs.greedy_decoded"], decoded, $"{source}: greedy_decoded", Tol);
    }

    [Fact]
    public void Filters_match_the_recorded_cases()
    {
        using var io = SafeTensors.Read(Fixture(Cin, "io.safetensors"));
        var logits = io["filter.logits"];
        using var topk5 = LogitFilters.TopKLogits(logits, 5);
        AssertClose(io["filter.topk5"], topk5, "top_k_logits(l, 5)", Tol);
        // Hugging Face's top_k = 0 ("off") is null here
        using var topp09 = LogitFilters.TopKTopP(logits, null, 0.9);
        AssertClose(io["filter.topk0_topp09"], topp09, "top_k_top_p_filtering(l, 0, 0.9)", Tol);
        using var both = LogitFilters.TopKTopP(logits, 10, 0.5);
        AssertClose(io["filter.topk10_topp05"], both, "top_k_top_p_filtering(l, 10, 0.5)", Tol);
        // top-k alone: Hugging Face's filter equals upstream's top_k_logits
        using var hfTopK = LogitFilters.TopKTopP(logits, 5, null);
        AssertClose(io["filter.topk5"], hfTopK, "top_k_top_p_filtering(l, 5, 1.0)", Tol);
        // top_k above the vocabulary is clamped (keeps everything), top_p 1 keeps everything
        using var all = LogitFilters.TopKTopP(logits, 1000, 1.0);
        AssertClose(logits, all, "top_k 1000, top_p 1", Tol);
    }

    [Fact]
    public void Nucleus_keeps_at_least_one_token()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 10f, 0f, -1f, -2f }).reshape(1, 4);
        var filtered = LogitFilters.TopKTopP(logits, null, 0.01);
        Assert.Equal(1, filtered.isfinite().sum().item<long>());
        Assert.Equal(10f, filtered[0, 0].item<float>());
        var two = LogitFilters.TopKTopP(logits, null, 0.01, minTokensToKeep: 2);
        Assert.Equal(2, two.isfinite().sum().item<long>());
    }

    [Fact]
    public void Checkpoint_and_safetensors_load_to_the_same_model()
    {
        var yaml = Path.Combine(TempDir(), "x-project.yaml");
        File.WriteAllText(yaml, ProjectYaml(Cin));
        using var fromCkpt = Net2NetTransformer.Load(Fixture(Cin, "last.ckpt"), yaml, device: CPU);
        using var fromSafetensors = Net2NetTransformer.Load(Fixture(Cin, "last.safetensors"), yaml, device: CPU);
        var a = fromCkpt.state_dict();
        var b = fromSafetensors.state_dict();
        Assert.Equal(a.Keys.OrderBy(k => k, StringComparer.Ordinal), b.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, tensor) in a)
            Assert.True(tensor.equal(b[name]).all().item<bool>(), $"{name} differs between last.ckpt and last.safetensors");
        // every tensor of the model is in the file under upstream's name, and every file tensor has its place
        var fileNames = Checkpoint.Inspect(Fixture(Cin, "last.safetensors")).Tensors.Select(t => t.Name).ToList();
        Assert.Equal(fileNames.OrderBy(k => k, StringComparer.Ordinal), a.Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void Seeded_sampling_gives_the_same_tokens_with_and_without_the_cache()
    {
        using var model = Open(SafetensorsWithYaml);
        using var io = SafeTensors.Read(Fixture(Cin, "io.safetensors"));
        using var scope = NewDisposeScope();
        var c = model.EncodeToC(io["inputs.class"]);
        foreach (var (topK, topP) in new (int?, double?)[] { (5, null), (null, 0.9), (20, 0.8) })
        {
            var cached = model.Sample(c, 64, new SamplingOptions { Temperature = 0.8, TopK = topK, TopP = topP, Generator = new Generator(1234) });
            var uncached = model.Sample(c, 64, new SamplingOptions { Temperature = 0.8, TopK = topK, TopP = topP, Generator = new Generator(1234) }, useCache: false);
            AssertIdentical(cached, uncached, $"seeded sample top_k {topK} top_p {topP}: cached vs uncached");
            var again = model.Sample(c, 64, new SamplingOptions { Temperature = 0.8, TopK = topK, TopP = topP, Generator = new Generator(1234) });
            AssertIdentical(cached, again, "the same seed twice");
        }
        // a different seed gives a different picture
        var other = model.Sample(c, 64, new SamplingOptions { Temperature = 0.8, TopK = 5, Generator = new Generator(99) });
        var first = model.Sample(c, 64, new SamplingOptions { Temperature = 0.8, TopK = 5, Generator = new Generator(1234) });
        Assert.False(other.equal(first).all().item<bool>());
    }

    [Fact]
    public void Step_callback_sees_the_partial_tokens()
    {
        using var model = Open(SafetensorsWithYaml);
        using var io = SafeTensors.Read(Fixture(Cin, "io.safetensors"));
        using var scope = NewDisposeScope();
        var c = model.EncodeToC(io["inputs.class"]);
        var lengths = new List<long>();
        var tokens = model.Sample(c, 64, SamplingOptions.Greedy, onStep: (step, partial) =>
        {
            Assert.Equal(step + 1, partial.shape[1]);
            lengths.Add(partial.shape[1]);
        });
        Assert.Equal(Enumerable.Range(1, 64).Select(i => (long)i), lengths);
        AssertIdentical(io["outputs.greedy_tokens"], tokens, "greedy tokens with a callback");
    }
}
