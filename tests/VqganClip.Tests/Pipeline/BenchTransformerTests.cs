using System.CommandLine;
using System.Text.Json.Nodes;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Transformer;

namespace VqganClip.Tests.Pipeline;

/// <summary><c>bench transformer</c> on tiny models (never the 1.4 B random GPT in a test): it prints its figures and skips a missing shipped model.</summary>
public sealed class BenchTransformerTests : IClassFixture<PipelineModels>
{
    private readonly PipelineModels _m;
    public BenchTransformerTests(PipelineModels models) => _m = models;

    private static (int Code, string Output) Bench(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(200);
        var root = new RootCommand("test") { BenchCommand.Create(console) };
        int code = CliApp.Run(root, new[] { "bench", "transformer" }.Concat(args).ToArray(), console);
        return (code, output.ToString());
    }

    private static readonly string[] TinyRandom = ["--random-layers", "1", "--random-width", "16", "--random-heads", "2", "--random-vocab", "32", "--random-block", "16", "--random-tokens", "4"];

    [Fact]
    public void Json_has_tokens_per_second_with_and_without_the_cache_at_each_batch_and_peak_memory()
    {
        var (code, text) = Bench(new[] { "--transformer", _m.Checkpoint, "--transformer-config", _m.Config, "--tokens", "6", "--json", "--threads", "1" }.Concat(TinyRandom).ToArray());
        Assert.True(code == 0, text);
        var json = JsonNode.Parse(text.Trim())!;
        Assert.Equal(1, json["threads"]!.GetValue<int>());
        Assert.True(json["peak_rss_mb"]!.GetValue<double>() > 0);
        var models = json["models"]!.AsArray();
        Assert.Equal(2, models.Count);
        Assert.Equal("cin-tiny.safetensors", models[0]!["name"]!.GetValue<string>());
        Assert.Equal(1, models[0]!["conditioning_tokens"]!.GetValue<int>());
        Assert.Equal("random GPT 1x16", models[1]!["name"]!.GetValue<string>());
        foreach (var model in models)
        {
            Assert.Null(model!["skipped"]);
            var rows = model["rows"]!.AsArray();
            Assert.Equal(new[] { (1, true), (1, false), (16, true), (16, false) },
                rows.Select(r => (r!["batch"]!.GetValue<int>(), r["cache"]!.GetValue<bool>())));
            Assert.All(rows, r => Assert.True(r!["tokens_per_second"]!.GetValue<double>() > 0));
            Assert.All(rows, r => Assert.True(r!["peak_rss_mb"]!.GetValue<double>() > 0));
        }
        Assert.All(models[0]!["rows"]!.AsArray(), r => Assert.Equal(6, r!["tokens"]!.GetValue<int>()));
        Assert.All(models[1]!["rows"]!.AsArray(), r => Assert.Equal(4, r!["tokens"]!.GetValue<int>()));
    }

    [Fact]
    public void Tables_print_the_figures_and_a_missing_shipped_model_is_skipped_with_a_message()
    {
        var (code, text) = Bench(new[] { "--transformer", _m.Checkpoint, "--transformer-config", _m.Config, "--batches", "2", "--threads", "1" }.Concat(TinyRandom).ToArray());
        Assert.True(code == 0, text);
        Assert.Contains("cin-tiny.safetensors", text);
        Assert.Contains("the whole 8x8 grid per sample", text);
        Assert.Contains("tokens / s", text);
        Assert.Contains("Peak RSS of the timed rows", text);

        var figures = BenchTransformerCommand.Run(new BenchTransformerCommand.Settings { Random = null, Batches = [1] }, () => null);
        var only = Assert.Single(figures);
        Assert.Equal("no shipped clipart-transformer.safetensors yet (give one with --transformer)", only.Skipped);
        Assert.Empty(only.Rows);
    }

    [Fact]
    public void A_caption_model_is_timed_after_its_caption_prefix()
    {
        var (code, text) = Bench("--transformer", _m.CaptionCheckpoint, "--no-random", "--batches", "1", "--tokens", "5", "--json", "--threads", "1");
        Assert.True(code == 0, text);
        var model = Assert.Single(JsonNode.Parse(text.Trim())!["models"]!.AsArray())!;
        Assert.Equal(6, model["conditioning_tokens"]!.GetValue<int>());
        Assert.Equal(2, model["rows"]!.AsArray().Count);
    }

    [Fact]
    public void The_random_GPT_is_the_cIN_transformers_size_by_default_and_bad_numbers_are_named()
    {
        var cin = BenchTransformerCommand.CinTransformer;
        Assert.Equal((16384, 256, 48, 24, 1536), (cin.VocabSize, cin.BlockSize, cin.NLayer, cin.NHead, cin.NEmbd));
        Assert.InRange(cin.ParameterCount, 1_300_000_000L, 1_500_000_000L);

        var (code, text) = Bench("--no-random", "--transformer", _m.Checkpoint, "--transformer-config", _m.Config, "--tokens", "65");
        Assert.Equal(UserErrors.UserError, code);
        Assert.Contains("--tokens 65 do not fit the GPT's block of 64 after 1 conditioning tokens (at most 64)", text.ReplaceLineEndings(" "));
        (code, text) = Bench("--no-random", "--batches", "0");
        Assert.Equal(UserErrors.UserError, code);
        Assert.Contains("--batches must be positive batch sizes.", text);
    }
}
