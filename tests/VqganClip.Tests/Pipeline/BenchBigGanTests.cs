using System.CommandLine;
using System.Text.Json.Nodes;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.BigGan;
using VqganClip.Tests.Guidance;

namespace VqganClip.Tests.Pipeline;

/// <summary>
/// <c>bench biggan</c> on tiny settings (the published layer plans at channel_width 4, the tiny CLIP fixture, 2 cutouts):
/// it prints one row per size with the published sizes' figures' structure. No timing thresholds.
/// </summary>
public sealed class BenchBigGanTests
{
    private static (int Code, string Output) Bench(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(220);
        var root = new RootCommand("test") { BenchCommand.Create(console) };
        int code = CliApp.Run(root, new[] { "bench", "biggan" }.Concat(args).ToArray(), console);
        return (code, output.ToString());
    }

    private static string[] Tiny(params string[] more) =>
        new[] { "--clip", TinyModels.ClipPath, "--channel-width", "4", "--cutn", "2", "--steps", "2", "--warmup", "1", "--threads", "1" }.Concat(more).ToArray();

    [Fact]
    public void Json_has_one_row_per_size_with_positive_seconds_the_split_and_peak_memory()
    {
        var (code, text) = Bench(Tiny("--sizes", "128,256", "--json"));
        Assert.True(code == 0, text);
        var json = JsonNode.Parse(text.Trim())!;
        Assert.Equal(1, json["threads"]!.GetValue<int>());
        Assert.Equal(1, json["warmup_steps"]!.GetValue<int>());
        Assert.Contains("openai.safetensors", json["clip"]!.GetValue<string>());
        Assert.Contains("channel_width 4", json["biggan"]!.GetValue<string>());
        Assert.Contains("random weights", json["biggan"]!.GetValue<string>());
        Assert.True(json["peak_rss_mb"]!.GetValue<double>() > 0);
        var rows = json["rows"]!.AsArray();
        Assert.Equal(new[] { 128, 256 }, rows.Select(r => r!["size"]!.GetValue<int>()));
        long[] expectedParameters = new[] { 128, 256 }.Select(s =>
        {
            using var model = new BigGanModel(BigGanConfig.Published(s, channelWidth: 4));
            return model.parameters().Sum(p => p.numel());
        }).ToArray();
        Assert.Equal(expectedParameters, rows.Select(r => r!["biggan_parameters"]!.GetValue<long>()));
        foreach (var row in rows)
        {
            Assert.Equal(2, row!["cutouts"]!.GetValue<int>());
            var steps = row["step_seconds"]!.AsArray().Select(s => s!.GetValue<double>()).ToArray();
            Assert.Equal(2, steps.Length);
            Assert.All(steps, s => Assert.True(s > 0));
            Assert.True(row["median_step_seconds"]!.GetValue<double>() > 0);
            Assert.True(row["biggan_forward_backward_seconds"]!.GetValue<double>() > 0);
            Assert.True(row["rest_seconds"]!.GetValue<double>() >= 0);
            Assert.True(row["peak_rss_mb"]!.GetValue<double>() > 0);
        }
    }

    [Fact]
    public void The_table_names_the_models_and_the_defaults_are_Big_Sleeps()
    {
        var (code, text) = Bench(Tiny("--sizes", "128"));
        Assert.True(code == 0, text);
        Assert.Contains("bench biggan", text);
        Assert.Contains("s / step", text);
        Assert.Contains("BigGAN fwd+bwd (s)", text);
        Assert.Contains("peak RSS (MB)", text);
        Assert.Contains("random weights", text);
        Assert.Contains("Peak RSS", text);

        var defaults = new BenchBigGanCommand.Settings();
        Assert.Equal(new[] { 128, 256 }, defaults.Sizes);
        Assert.Null(defaults.CutCount);   // Big Sleep's 128 from RunRecipe.BigSleepOriginal
        Assert.Null(defaults.ClipPath);   // a random-weight ViT-B/32
        Assert.Equal(128, defaults.ChannelWidth);
    }

    [Fact]
    public void Bad_settings_are_named()
    {
        var (code, text) = Bench(Tiny("--sizes", "64"));
        Assert.Equal(UserErrors.UserError, code);
        Assert.Contains("BigGAN-deep was published at 128, 256, 512 px, not 64.", text.ReplaceLineEndings(" "));
        (code, text) = Bench("--clip", TinyModels.ClipPath, "--channel-width", "6", "--sizes", "128");
        Assert.Equal(UserErrors.UserError, code);
        Assert.Contains("--channel-width must be a positive multiple of 4; got 6.", text.ReplaceLineEndings(" "));
        // a size that is not a number is a parse error (System.CommandLine reports it; the command never runs)
        var parse = new RootCommand("test") { BenchCommand.Create(CliTestConsole.Create(220).Console) }.Parse(["bench", "biggan", "--sizes", "128,x"]);
        Assert.Equal("--sizes: 'x' is not a whole number (give e.g. --sizes 128,256).", Assert.Single(parse.Errors).Message);
    }
}
