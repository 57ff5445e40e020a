using System.CommandLine;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Images;
using VqganClip.Models.IO;
using VqganClip.Models.Pix2Pix;
using VqganClip.Tests.Guidance;
using static TorchSharp.torch;
using static VqganClip.Tests.Pix2Pix.Pix2PixTestSupport;

namespace VqganClip.Tests.Pix2Pix;

/// <summary><c>vqgan-clip pix2pix</c> and <c>generate --init-pix2pix</c>: a colouring that reopens, both modes, and the errors naming the file.</summary>
public sealed class Pix2PixCommandTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(250);
        var root = ToolkitCommands.CreateRoot(console);
        int code = CliApp.Run(root, new[] { "pix2pix" }.Concat(args).ToArray(), console);
        return (code, output.ToString());
    }

    /// <summary>A small generator (num_downs 5, ngf 4, trained-size 64 stored) and a 64 px outline in a new folder.</summary>
    private static (string Dir, string Model, string Outline) Setup()
    {
        var dir = TempDir();
        var model = Path.Combine(dir, "g.safetensors");
        manual_seed(11);
        using (var g = new UnetGenerator(new UnetConfig(3, 3, 5, 4)) { ImageSize = 64 }) g.Save(model);
        var outline = Path.Combine(dir, "outline.png");
        using var picture = ones(1, 3, 80, 80);
        picture[.., .., 20..60, 40] = zeros(1);   // a vertical black stroke
        ImageIO.Save(picture, outline);
        return (dir, model, outline);
    }

    [Fact]
    public void Colours_an_outline_into_a_png_that_reopens_in_both_modes()
    {
        var (dir, model, outline) = Setup();
        var evalPath = Path.Combine(dir, "eval.png");
        var (code, output) = Run(outline, "--model", model, "--out", evalPath);
        Assert.True(code == 0, output);
        Assert.Contains(evalPath, output);
        using var coloured = ImageIO.Load(evalPath);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, coloured.shape);   // resized to the stored training size
        Assert.Equal("eval", ImageIO.ReadPngText(evalPath)["mode"]);

        // The same colouring as the generator's own, through the PNG's 8 bits.
        using var g = UnetGenerator.Load(model);
        using var picture = ImageIO.Load(outline);
        using var expected = Pix2PixColouring.Colour(g, picture);
        Assert.True((expected - coloured).abs().max().item<float>() <= 1.0f / 255 + 1e-6);

        var trainPath = Path.Combine(dir, "train.png");
        (code, output) = Run(outline, "--model", model, "--out", trainPath, "--train-mode", "--seed", "3");
        Assert.True(code == 0, output);
        Assert.Equal("train", ImageIO.ReadPngText(trainPath)["mode"]);
        using var trained = ImageIO.Load(trainPath);
        Assert.True((trained - coloured).abs().max().item<float>() > 0.02);   // batch statistics of one picture, not the running ones
        Assert.Equal(Path.Combine(dir, "outline-pix2pix.png"), Pix2PixCommand.DefaultOutput(outline, dir));
    }

    [Fact]
    public void Without_model_the_shipped_clipart_pix2pix_colours_at_64px()
    {
        var (dir, _, outline) = Setup();
        var outPath = Path.Combine(dir, "shipped.png");
        var (code, output) = Run(outline, "--out", outPath);
        Assert.True(code == 0, output);
        Assert.Equal("clipart-pix2pix.safetensors", ImageIO.ReadPngText(outPath)["model"]);
        using var coloured = ImageIO.Load(outPath);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, coloured.shape);
        // Not grey: the model colours (an outline is black on white).
        Assert.True((coloured[0, 0] - coloured[0, 2]).abs().mean().item<float>() > 0.02);
    }

    [Fact]
    public void Errors_name_the_missing_or_unreadable_file()
    {
        var (dir, model, outline) = Setup();
        var (code, output) = Run(Path.Combine(dir, "missing.png"), "--model", model);
        Assert.Equal(1, code);
        Assert.Contains("missing.png", output);

        var corrupt = Path.Combine(dir, "corrupt.png");
        File.WriteAllText(corrupt, "not a png");
        (code, output) = Run(corrupt, "--model", model);
        Assert.Equal(1, code);
        Assert.Contains("corrupt.png", output);

        (code, output) = Run(outline, "--model", Path.Combine(dir, "nope.pth"));
        Assert.Equal(1, code);
        Assert.Contains("nope.pth", output);

        var notModel = Path.Combine(dir, "notes.pth");
        File.WriteAllText(notModel, "hello");
        (code, output) = Run(outline, "--model", notModel);
        Assert.Equal(1, code);
        Assert.Contains("notes.pth", output);

        var discriminator = Path.Combine(dir, "latest_net_D.safetensors");
        using (var all = Checkpoint.Load(Fixture("init.safetensors")))
            SafeTensors.Write(discriminator, all.Keys.Where(k => k.StartsWith("D.")).Select(k => (k[2..], all[k])));
        (code, output) = Run(outline, "--model", discriminator);
        Assert.Equal(1, code);
        Assert.Contains("latest_net_D.safetensors", output);
        Assert.Contains("model.model.0.weight", output);
    }

    [Fact]
    public void Generate_init_pix2pix_starts_from_the_colouring()
    {
        var (dir, model, outline) = Setup();
        var outPath = Path.Combine(dir, "start.png");
        var (console, text) = CliTestConsole.Create(250);
        var root = new RootCommand("test") { GenerateCommand.Create(console) };
        int code = CliApp.Run(root, ["generate", "a red circle", "--clip", TinyModels.ClipPath, "--generator", "pixels", "--size", "64x64", "--cutn", "2",
            "--seed", "5", "--steps", "0", "--out", outPath, "--init-pix2pix", outline, "--pix2pix-model", model], console);
        Assert.True(code == 0, text.ToString());
        var colouring = Path.Combine(dir, "outline-pix2pix.png");
        Assert.True(File.Exists(colouring), text.ToString());
        var chunks = ImageIO.ReadPngText(outPath);
        Assert.Equal(colouring, chunks["init_image"]);
        Assert.Contains("--init-image", chunks["command"]);
        // Zero steps: the picture is the start picture.
        using var start = ImageIO.Load(colouring);
        using var result = ImageIO.Load(outPath);
        Assert.True((start - result).abs().mean().item<float>() < 0.02);

        (console, text) = CliTestConsole.Create(250);
        root = new RootCommand("test") { GenerateCommand.Create(console) };
        code = CliApp.Run(root, ["generate", "a red circle", "--clip", TinyModels.ClipPath, "--generator", "pixels", "--size", "64x64", "--steps", "0",
            "--out", Path.Combine(dir, "x.png"), "--init-pix2pix", outline, "--init-image", colouring, "--pix2pix-model", model], console);
        Assert.Equal(1, code);
        Assert.Contains("--init-pix2pix and --init-image", text.ToString());
    }
}
