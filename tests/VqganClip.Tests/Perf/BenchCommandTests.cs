using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Cli.Benchmarking;
using VqganClip.Cli.Commands;
using VqganClip.Models.Clip;
using VqganClip.Models.Cost;
using VqganClip.Models.Vqgan;

namespace VqganClip.Tests.Perf;

public class BenchCommandTests
{
    private static (IAnsiConsole Console, StringWriter Output) TestConsole() => CliTestConsole.Create(200);

    private static int Invoke(IAnsiConsole console, params string[] args) =>
        CliApp.Run(new RootCommand("test") { BenchCommand.Create(console) }, args, console);

    [Fact]
    public void BenchCPrintsOneJsonObjectWithTheStepFiguresAndTheCountedWork()
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "bench", "loop", "--config", "C", "--steps", "2", "--warmup", "1", "--threads", "1", "--json", "--no-ceiling"));
        using var doc = JsonDocument.Parse(output.ToString());
        var o = doc.RootElement;
        Assert.Equal("C", o.GetProperty("config").GetString());
        Assert.Equal("64x64", o.GetProperty("image").GetString());
        Assert.Equal(8, o.GetProperty("cutn").GetInt32());
        Assert.Equal(32, o.GetProperty("cut_size").GetInt32());
        Assert.Equal(1, o.GetProperty("threads").GetInt32());
        Assert.Equal(2, o.GetProperty("steps").GetInt32());
        double median = o.GetProperty("s_per_step_median").GetDouble();
        Assert.True(median > 0);
        Assert.InRange(median, o.GetProperty("s_per_step_min").GetDouble(), o.GetProperty("s_per_step_max").GetDouble());
        Assert.True(o.GetProperty("peak_rss_mb").GetDouble() >= o.GetProperty("rss_mb_final").GetDouble() - 1);

        // the work is the fixture models' counted work: decoder on the 4x4 latent, CLIP encoder on 8 cutouts, code search
        var clip = ClipModel.Load(TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors"));
        var vqgan = VqganConfig.FromYaml(TestSetup.Fixtures("vqgan-f16-tiny", "model.yaml"));
        double expected = (VqganFlops.Decode(vqgan, 4, 4) + ClipFlops.ImageEncoder(clip.Config, 8) + VqganFlops.NearestCodeSearch(vqgan, 16)).Total / 1e9;
        clip.Dispose();
        Assert.Equal(expected, o.GetProperty("gflop_per_step").GetDouble(), 1e-3);
        Assert.Equal(expected / median, o.GetProperty("achieved_gflops").GetDouble(), 0.01 * expected / median + 1e-3);
        Assert.Equal(JsonValueKind.Null, o.GetProperty("machine_sgemm_gflops").ValueKind);
    }

    [Fact]
    public void MachineCeilingsArePositiveRates()
    {
        Assert.True(MachineCeiling.SgemmGflops(n: 256, repeats: 1) > 0);
        Assert.True(MachineCeiling.Conv3x3Gflops(channels: 16, side: 32, repeats: 1) > 0);
    }

    [Fact]
    public void UnknownConfigurationAndMissingFilesAreOneLineErrors()
    {
        var (console, output) = TestConsole();
        Assert.Equal(1, Invoke(console, "bench", "loop", "--config", "D"));
        Assert.Contains("Unknown benchmark configuration 'D'", output.ToString());
        Assert.Contains("A, B, C", output.ToString());

        (console, output) = TestConsole();
        Assert.Equal(1, Invoke(console, "bench", "loop", "--config", "C", "--clip", "/nonexistent/clip.pt"));
        Assert.Contains("/nonexistent/clip.pt", output.ToString());

        (console, output) = TestConsole();
        Assert.Equal(1, Invoke(console, "bench", "loop", "--config", "C", "--steps", "0", "--no-ceiling"));
        Assert.Contains("--steps", output.ToString());
    }

    [Fact]
    public void PresetsFollowTheIssue()
    {
        var a = BenchSetup.For("a");
        Assert.Equal((256, 32), (a.Size, a.CutCount));
        Assert.True(ClipConfig.ViTB32.SameArchitecture(a.ClipConfig!));
        Assert.Equal((256, 16384, 128, 256), (a.VqganConfig!.EmbedDim, a.VqganConfig.NEmbed, a.VqganConfig.DdConfig.Ch, a.VqganConfig.DdConfig.ZChannels));
        Assert.Equal(new[] { 1, 1, 2, 2, 4 }, a.VqganConfig.DdConfig.ChMult);
        var b = BenchSetup.For("B");
        Assert.Equal((128, 16), (b.Size, b.CutCount));
        var c = BenchSetup.For("C");
        Assert.True(File.Exists(c.ClipPath) && File.Exists(c.VqganPath) && File.Exists(c.VqganYaml));
        Assert.Equal(0.1, c.LearningRate);
    }
}
