using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Images;
using static TorchSharp.torch;
using static VqganClip.Tests.DeepDream.DeepDreamTestSupport;

namespace VqganClip.Tests.DeepDream;

/// <summary><c>vqgan-clip dream</c>: a short dream writes a PNG that says how to make it again; the layer list; the errors.</summary>
public sealed class DreamCommandTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(200);
        var root = ToolkitCommands.CreateRoot(console);
        int code = CliApp.Run(root, new[] { "dream" }.Concat(args).ToArray(), console);
        return (code, output.ToString());
    }

    private static string SavePicture(string dir)
    {
        using var picture = Picture(64, 64, 9);
        var path = Path.Combine(dir, "in.png");
        ImageIO.Save(picture, path);
        return path;
    }

    [Fact]
    public void A_short_dream_writes_a_png_with_its_command()
    {
        var dir = TempDir();
        var input = SavePicture(dir);
        var outPath = Path.Combine(dir, "out.png");
        var (code, output) = Run(input, "--layer", "stage2.block1", "--octaves", "1", "--steps", "2", "--jitter", "4", "--seed", "5", "--out", outPath);
        Assert.True(code == 0, output);
        Assert.Contains(outPath, output);
        var chunks = ImageIO.ReadPngText(outPath);
        Assert.Equal("stage2.block1", chunks["layer"]);
        Assert.Contains("--octaves 1", chunks["command"]);
        Assert.Contains("--seed 5", chunks["command"]);
        using var a = ImageIO.Load(input);
        using var b = ImageIO.Load(outPath);
        Assert.True((a - b).abs().mean().item<float>() > 1e-3);
        Assert.Equal(Path.Combine(dir, "in-dream.png"), DreamCommand.DefaultOutput(input, dir));
    }

    [Fact]
    public void List_layers_prints_the_friendly_and_onnx_names()
    {
        var (code, output) = Run("--list-layers");
        Assert.True(code == 0, output);
        Assert.Contains("stage3.block1", output);
        Assert.Contains("ReLU333_Output_0", output);
        Assert.Contains("stage4.block3", output);
    }

    [Fact]
    public void Errors_are_one_line_each()
    {
        var dir = TempDir();
        var input = SavePicture(dir);
        var (code, output) = Run(Path.Combine(dir, "missing.png"));
        Assert.Equal(1, code);
        Assert.Contains("missing.png", output);
        var softmax = TinyOnnx.Write(TinyOnnx.WithSoftmax(), Path.Combine(dir, "softmax.onnx"));
        (code, output) = Run(input, "--model", softmax, "--octaves", "1");
        Assert.Equal(1, code);
        Assert.Contains("Softmax", output);
        (code, output) = Run(input, "--model", Path.Combine(dir, "none.onnx"), "--octaves", "1");
        Assert.Equal(1, code);
        Assert.Contains("none.onnx", output);
        (code, output) = Run(input, "--layer", "nope", "--octaves", "1");
        Assert.Equal(1, code);
        Assert.Contains("stage3.block1", output);
        (code, output) = Run(input);   // 4 octaves of a 64 px picture
        Assert.Equal(1, code);
        Assert.Contains("--octaves", output);
    }
}
