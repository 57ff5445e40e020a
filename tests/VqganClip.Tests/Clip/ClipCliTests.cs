using System.CommandLine;
using Spectre.Console;
using TorchSharp;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using VqganClip.Models.IO;

namespace VqganClip.Tests.Clip;

/// <summary><c>vqgan-clip score</c> and what <c>inspect</c> says about CLIP files.</summary>
public class ClipCliTests : ClipTempFolderTest
{
    private static (IAnsiConsole Console, StringWriter Output) TestConsole() => CliTestConsole.Create(200);

    private static int Invoke(IAnsiConsole console, params string[] args)
    {
        var root = new RootCommand("test") { InspectCommand.Create(console), ScoreCommand.Create(console) };
        return CliApp.Run(root, args, console);
    }

    [Fact]
    public void Score_prints_every_text_ranked_by_probability()
    {
        // The fixture's first image, un-normalized and saved as a PNG.
        var dir = NewTempDir();
        var png = Path.Combine(dir, "image.png");
        using (var io = SafeTensors.Read(ClipTestSupport.Fixture("io.safetensors")))
        using (var scope = torch.NewDisposeScope())
        {
            var mean = torch.tensor(ClipModel.PixelMean).view(3, 1, 1);
            var std = torch.tensor(ClipModel.PixelStd).view(3, 1, 1);
            ImageIO.Save((io["inputs.images"][0] * std + mean).clamp(0, 1), png);
        }

        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "score", "--clip", ClipTestSupport.Fixture("openai.safetensors"), png, "a diagram", "a dog", "a cat"));
        var text = output.ToString();
        var positions = new[] { "a diagram", "a dog", "a cat" }.Select(t => text.IndexOf(t, StringComparison.Ordinal)).ToArray();
        Assert.All(positions, p => Assert.True(p >= 0, text));
        Assert.Contains("probability", text);
        Assert.Contains("%", text);
    }

    [Fact]
    public void Score_with_a_VQGAN_file_is_a_red_error_without_a_trace()
    {
        var (console, output) = TestConsole();
        var vqgan = Path.Combine(AppContext.BaseDirectory, "fixtures", "vqgan-f16-tiny", "model.safetensors");
        Assert.Equal(1, Invoke(console, "score", "--clip", vqgan, ClipTestSupport.Fixture("manifest.json"), "a dog"));
        var text = output.ToString();
        Assert.StartsWith("error: ", text);
        Assert.Contains("not a CLIP checkpoint", text.ReplaceLineEndings(""));
        Assert.DoesNotContain("   at ", text); // no stack trace
    }

    [Theory]
    [InlineData("openai.safetensors", "OpenAI / open_clip")]
    [InlineData("openai_jit.pt", "OpenAI / open_clip")]
    [InlineData("hf_model.safetensors", "Hugging Face CLIPModel")]
    public void Inspect_recognises_CLIP_and_prints_its_config(string file, string names)
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "inspect", ClipTestSupport.Fixture(file)));
        var text = output.ToString();
        Assert.Contains("Recognised as CLIP (ViT, custom size)", text);
        Assert.Contains(names, text);
        Assert.Matches(@"transformer_heads\s+2", text);   // from hf_config.json beside the file
        Assert.Matches(@"vision_patch_size\s+8", text);
        Assert.Matches(@"image_resolution\s+32", text);
    }

    [Fact]
    public void Inspect_does_not_call_a_VQGAN_CLIP()
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "inspect", Path.Combine(AppContext.BaseDirectory, "fixtures", "vqgan-f16-tiny", "model.safetensors")));
        Assert.DoesNotContain("CLIP", output.ToString());
    }
}
