using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using static VqganClip.Tests.Vqgan.VqganTestSupport;

namespace VqganClip.Tests.Vqgan;

/// <summary>What <c>inspect</c> says about VQGAN files, and <c>bench vqgan</c> running on a tiny config.</summary>
public sealed class VqganCliTests
{
    public VqganCliTests() => EnsureTorch();

    private static (int Code, string Text) Invoke(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(240);
        var root = new RootCommand("test") { InspectCommand.Create(console), BenchCommand.Create(console) };
        int code = CliApp.Run(root, args, console);
        return (code, output.ToString());
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("last.ckpt")]
    public void Inspect_recognises_the_VQGAN_and_shows_its_yaml_config(string file)
    {
        var (code, text) = Invoke("inspect", Fixture(file));
        Assert.Equal(0, code);
        Assert.Contains("Recognised as VQGAN (VQModel) f16, 64 codes", text);
        Assert.Contains("[1, 1, 1, 1, 2]", text);
        Assert.Contains("model.yaml", text);
        Assert.DoesNotContain("assumed", text);
    }

    [Fact]
    public void Inspect_without_yaml_shows_the_inferred_config()
    {
        var dir = TempDir();
        try
        {
            var copy = Path.Combine(dir, "weights.safetensors");
            File.Copy(Fixture("model.safetensors"), copy);
            var (code, text) = Invoke("inspect", copy);
            Assert.Equal(0, code);
            Assert.Contains("Recognised as VQGAN (VQModel) f16, 64 codes", text);
            Assert.Contains("assumed", text);
            Assert.Contains("[16]", text);   // attn_resolutions named for the assumed 256
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Inspect_does_not_call_CLIP_a_VQGAN()
    {
        var (code, text) = Invoke("inspect", Path.Combine(AppContext.BaseDirectory, "fixtures", "clip-vit-tiny", "openai.safetensors"));
        Assert.Equal(0, code);
        Assert.DoesNotContain("VQGAN", text);
    }

    [Fact]
    public void Bench_runs_on_a_small_config_and_prints_both_passes()
    {
        var (code, text) = Invoke("bench", "vqgan", "--config", Fixture("model.yaml"), "--sizes", "32", "--warmup", "0", "--iterations", "1");
        Assert.True(code == 0, text);
        Assert.Contains("decode (no_grad)", text);
        Assert.Contains("decode + backward to latent", text);
        Assert.Contains("16x2x2", text);

        // the channels-last variant runs the same passes (libtorch accepts NHWC-strided weights and latents)
        (code, text) = Invoke("bench", "vqgan", "--config", Fixture("model.yaml"), "--sizes", "32", "--warmup", "0", "--iterations", "1", "--channels-last");
        Assert.True(code == 0, text);
        Assert.Contains("channels-last", text);
        Assert.Contains("decode + backward to latent", text);

        var (badCode, badText) = Invoke("bench", "vqgan", "--sizes", "0");
        Assert.Equal(1, badCode);
        Assert.Contains("error:", badText);
    }
}
