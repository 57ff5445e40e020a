using System.Text.Json.Nodes;
using VqganClip.Models.IO;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Transformer;

/// <summary>Bad input gives errors that name the problem and the value.</summary>
public sealed class TransformerErrorTests
{
    public TransformerErrorTests() => EnsureTorch();

    private static string WriteYaml(Action<JsonObject> edit, string fixture = Cin)
    {
        var path = Path.Combine(TempDir(), "edited-project.yaml");
        File.WriteAllText(path, ProjectYaml(fixture, edit));
        return path;
    }

    private static JsonObject GptParams(JsonObject p) => (JsonObject)p["transformer_config"]!["params"]!;

    private static Net2NetTransformer OpenCin()
    {
        var yaml = Path.Combine(TempDir(), "cin-project.yaml");
        File.WriteAllText(yaml, ProjectYaml(Cin));
        return Net2NetTransformer.Load(Fixture(Cin, "last.safetensors"), yaml, device: CPU);
    }

    [Fact]
    public void A_vqgan_checkpoint_is_not_a_transformer()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "vqgan-f16-tiny", "model.safetensors");
        var e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(path, device: CPU));
        Assert.Contains("not a taming Net2NetTransformer", e.Message);
        Assert.Contains("It is a VQGAN (first-stage) checkpoint", e.Message);
    }

    [Fact]
    public void A_clip_checkpoint_is_not_a_transformer()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "clip-vit-tiny", "openai.safetensors");
        var e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(path, device: CPU));
        Assert.Contains("no 'transformer.tok_emb.weight'", e.Message);
        Assert.Contains("CLIP", e.Message);
    }

    [Fact]
    public void A_yaml_that_disagrees_with_the_weights_names_the_tensor_and_both_shapes()
    {
        var wider = WriteYaml(p => GptParams(p)["n_embd"] = 64);
        var e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(Fixture(Cin, "last.safetensors"), wider, device: CPU));
        Assert.Contains("tensor 'transformer.pos_emb' has shape [1, 64, 32] in the checkpoint", e.Message);
        Assert.Contains("n_embd 64) expects [1, 64, 64]", e.Message);
        Assert.Contains("more tensors disagree", e.Message);

        var longer = WriteYaml(p => GptParams(p)["block_size"] = 128);
        e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(Fixture(Cin, "last.safetensors"), longer, device: CPU));
        Assert.Contains("tensor 'transformer.pos_emb' has shape [1, 64, 32] in the checkpoint", e.Message);
        Assert.Contains("block_size 128, n_layer 2, n_head 2, n_embd 32) expects [1, 128, 32]", e.Message);

        var deeper = WriteYaml(p => GptParams(p)["n_layer"] = 3);
        e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(Fixture(Cin, "last.safetensors"), deeper, device: CPU));
        Assert.Contains("transformer.blocks.2.", e.Message);
        Assert.Contains("missing", e.Message);

        var unmasked = WriteYaml(p => GptParams(p)["n_unmasked"] = 5);
        e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(Fixture(Cin, "last.safetensors"), unmasked, device: CPU));
        Assert.Contains("transformer.blocks.0.attn.mask", e.Message);
        Assert.Contains("n_unmasked = 5", e.Message);
        Assert.Contains("n_unmasked = 0", e.Message);
    }

    [Fact]
    public void A_vqgan_yaml_is_not_a_transformer_config()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "vqgan-f16-tiny", "model.yaml");
        var e = Assert.Throws<InvalidDataException>(() => TransformerConfig.FromYaml(path));
        Assert.Contains("describes a VQGAN (first stage), not a Net2NetTransformer", e.Message);
    }

    [Fact]
    public void Unsupported_parts_of_a_yaml_are_named()
    {
        var permuted = WriteYaml(p => p["permuter_config"] = new JsonObject { ["target"] = "taming.modules.transformer.permuter.ZCurve" });
        var e = Assert.Throws<InvalidDataException>(() => TransformerConfig.FromYaml(permuted));
        Assert.Contains("'taming.modules.transformer.permuter.ZCurve' is not supported", e.Message);

        var cond = WriteYaml(p => p["cond_stage_config"] = new JsonObject { ["target"] = "my.own.Stage" });
        e = Assert.Throws<InvalidDataException>(() => TransformerConfig.FromYaml(cond));
        Assert.Contains("cond_stage_config.target 'my.own.Stage' is not supported", e.Message);

        var heads = WriteYaml(p => GptParams(p)["n_head"] = 3);
        e = Assert.Throws<InvalidDataException>(() => TransformerConfig.FromYaml(heads));
        Assert.Contains("n_embd (32) must be divisible by n_head (3)", e.Message);

        var classes = WriteYaml(p => p["cond_stage_config"]!["params"]!["n_classes"] = 100);
        e = Assert.Throws<InvalidDataException>(() => TransformerConfig.FromYaml(classes));
        Assert.Contains("n_classes = 100 but the GPT's vocab_size is 48", e.Message);

        var noVocab = WriteYaml(p => GptParams(p).Remove("vocab_size"));
        e = Assert.Throws<InvalidDataException>(() => TransformerConfig.FromYaml(noVocab));
        Assert.Contains("'model.params.transformer_config.params.vocab_size' is missing", e.Message);
    }

    [Fact]
    public void Without_yaml_the_missing_values_are_named()
    {
        var dir = TempDir();
        var copy = Path.Combine(dir, "weights.safetensors");
        File.Copy(Fixture(Cin, "last.safetensors"), copy);
        var e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(copy, device: CPU));
        Assert.Contains("n_head cannot be read from the weights", e.Message);
        Assert.Contains("n_embd = 32", e.Message);

        e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(copy, hints: new TransformerLoadHints { NHead = 2 }, device: CPU));
        Assert.Contains("the conditioning stage cannot be read from the weights", e.Message);
        Assert.Contains("class-conditional with n_classes", e.Message);

        e = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(copy, hints: new TransformerLoadHints { NHead = 5 }, device: CPU));
        Assert.Contains("n_embd (32) must be divisible by n_head (5)", e.Message);
    }

    [Fact]
    public void Gpt_config_errors_name_the_value()
    {
        var e = Assert.Throws<ArgumentException>(() => new GptConfig { VocabSize = 10, BlockSize = 8, NHead = 4, NEmbd = 30 }.Validate());
        Assert.Contains("n_embd (30) must be divisible by n_head (4)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GptConfig { VocabSize = 0, BlockSize = 8 }.Validate());
        Assert.Contains("vocab_size must be positive (got 0)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GptConfig { VocabSize = 10, BlockSize = 8, NHead = 2, NEmbd = 8, AttnPdrop = 1.5 }.Validate());
        Assert.Contains("attn_pdrop must be in [0, 1) (got 1.5)", e.Message);
    }

    [Fact]
    public void Bad_sampling_settings_name_the_value()
    {
        using var scope = NewDisposeScope();
        var logits = randn(2, 10);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LogitFilters.TopKLogits(logits, 0));
        Assert.Contains("top_k must be a positive number of tokens (got 0)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => LogitFilters.TopKTopP(logits, -3, null));
        Assert.Contains("(got -3)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => LogitFilters.TopKTopP(logits, null, 0.0));
        Assert.Contains("top_p must lie in (0, 1] (got 0)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => LogitFilters.TopKTopP(logits, 5, 1.5));
        Assert.Contains("(got 1.5)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { Temperature = 0 }.Validate());
        Assert.Contains("temperature must be a positive number (got 0)", e.Message);

        using var model = OpenCin();
        var c = model.EncodeToC(tensor(new long[] { 1, 2 }));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(c, 64, new SamplingOptions { TopK = 0 }));
        Assert.Contains("top_k must be a positive number of tokens (got 0)", e.Message);
    }

    [Fact]
    public void Class_ids_and_tokens_outside_the_vocabulary_are_refused()
    {
        using var model = OpenCin();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.EncodeToC(tensor(new long[] { 3, 10 })));
        Assert.Contains("Class id 10 is outside [0, 10)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => model.EncodeToC(tensor(new long[] { -1 })));
        Assert.Contains("Class id -1 is outside [0, 10)", e.Message);

        using var scope = NewDisposeScope();
        var bad = tensor(new long[] { 48 }).reshape(1, 1);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(bad, 4));
        Assert.Contains("Token id 48 is outside the GPT's vocabulary [0, 48)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transformer.forward(tensor(new long[] { 1, 2, 60 }).reshape(1, 3)));
        Assert.Contains("Token id 60", e.Message);
    }

    [Fact]
    public void A_token_grid_larger_than_the_block_is_refused()
    {
        using var model = OpenCin();
        using var scope = NewDisposeScope();
        var c = model.EncodeToC(tensor(new long[] { 1 }));
        var e = Assert.Throws<ArgumentException>(() => model.Sample(c, 65));
        Assert.Contains("65 sampled tokens need 65 positions, but the GPT's block_size is 64", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.Sample(c, 40, prefix: zeros(new long[] { 1, 30 }, ScalarType.Int64), useCache: false));
        Assert.Contains("30 prefix tokens and 40 sampled tokens need 70 positions", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.Transformer.forward(zeros(new long[] { 1, 65 }, ScalarType.Int64)));
        Assert.Contains("exceeds the GPT's block_size of 64", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.ForwardTokens(zeros(new long[] { 1, 80 }, ScalarType.Int64), c));
        Assert.Contains("block_size is 64", e.Message);
    }

    [Fact]
    public void Sliding_window_errors_name_the_sizes()
    {
        using var model = OpenCin();
        using var scope = NewDisposeScope();
        var small = zeros(new long[] { 1, 8, 12 }, ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => model.SampleSlidingWindow(small, small, window: 16));
        Assert.Contains("The token grid 8x12 is smaller than the 16x16 window", e.Message);

        var grid = zeros(new long[] { 1, 20, 20 }, ScalarType.Int64);
        e = Assert.Throws<ArgumentException>(() => model.SampleSlidingWindow(grid, grid, window: 16));
        Assert.Contains("A 16x16 window after 256 conditioning tokens needs 511 positions, but the GPT's block_size is 64", e.Message);

        e = Assert.Throws<ArgumentException>(() => model.SampleSlidingWindow(grid, zeros(new long[] { 1, 10, 10 }, ScalarType.Int64), window: 4));
        Assert.Contains("same grid [1, 20, 20]", e.Message);
    }

    [Fact]
    public void Unknown_permuters_are_named()
    {
        var e = Assert.Throws<NotSupportedException>(() => TokenPermuters.FromTarget("taming.modules.transformer.permuter.SpiralOut"));
        Assert.Contains("'taming.modules.transformer.permuter.SpiralOut' is not supported", e.Message);
        Assert.IsType<IdentityPermuter>(TokenPermuters.FromTarget(null));
    }

    [Fact]
    public void Forward_with_past_needs_eval_mode()
    {
        var config = new GptConfig { VocabSize = 10, BlockSize = 8, NLayer = 1, NHead = 2, NEmbd = 8 };
        using var gpt = new Gpt(config);
        using var cache = gpt.CreateCache(1);
        using var idx = zeros(new long[] { 1, 2 }, ScalarType.Int64);
        var e = Assert.Throws<InvalidOperationException>(() => gpt.ForwardWithPast(idx, cache));
        Assert.Contains("call eval() first", e.Message);
        gpt.eval();
        using var logits = gpt.ForwardWithPast(idx, cache);
        var wrong = Assert.Throws<ArgumentException>(() => gpt.ForwardWithPast(idx, cache, pastLength: 5));
        Assert.Contains("past_length 5 does not match the 2 positions", wrong.Message);
    }
}
