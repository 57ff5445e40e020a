using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Images;

namespace VqganClip.Tests.Guidance;

public class GenerateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqgan-clip-generate").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (IAnsiConsole Console, StringWriter Output) TestConsole() => CliTestConsole.Create(250);

    private static (int Code, string Output) Generate(params string[] args)
    {
        var (console, output) = TestConsole();
        var root = new RootCommand("test") { GenerateCommand.Create(console) };
        int code = CliApp.Run(root, new[] { "generate" }.Concat(args).ToArray(), console);
        return (code, output.ToString());
    }

    private string[] Common(string output, params string[] more) => new[]
    {
        "--clip", TinyModels.ClipPath, "--generator", "pixels", "--size", "40x40", "--cutn", "2", "--seed", "5", "--out", output,
    }.Concat(more).ToArray();

    [Fact]
    public void WritesThePictureWithEverySettingAndNumberedSnapshots()
    {
        var outPath = Path.Combine(_dir, "rose.png");
        var (code, text) = Generate(new[] { "a red rose:1.5|a vase:-0.5" }.Concat(Common(outPath, "--steps", "4", "--save-every", "2")).ToArray());
        Assert.True(code == 0, text);
        Assert.True(File.Exists(outPath));
        Assert.True(File.Exists(Path.Combine(_dir, "rose-0000.png")));
        Assert.True(File.Exists(Path.Combine(_dir, "rose-0002.png")));
        Assert.Contains("Image: " + outPath, text);

        var chunks = ImageIO.ReadPngText(outPath);
        Assert.Equal("a red rose:1.5|a vase:-0.5", chunks["prompt"]);
        Assert.Equal("5", chunks["seed"]);
        Assert.Equal("4", chunks["step"]);
        Assert.Equal("pixels", chunks["generator"]);
        Assert.Equal("40x40", chunks["size"]);
        Assert.Contains("\"CutCount\":2", chunks["options"]);
        Assert.StartsWith("vqgan-clip generate \"a red rose:1.5|a vase:-0.5\" --generator pixels --size 40x40 --steps 4", chunks["command"]);
        Assert.Contains("--seed 5", chunks["command"]);

        // the same settings reproduce the same file, byte for byte
        var again = Path.Combine(_dir, "again.png");
        Assert.Equal(0, Generate(new[] { "a red rose:1.5|a vase:-0.5" }.Concat(Common(again, "--steps", "4")).ToArray()).Code);
        Assert.Equal(ImageIO.Load(outPath).data<float>().ToArray(), ImageIO.Load(again).data<float>().ToArray());
    }

    [Fact]
    public void ARunFolderResumesToTheSamePictureAsAStraightRun()
    {
        var straight = Path.Combine(_dir, "straight.png");
        Assert.Equal(0, Generate(new[] { "a tree" }.Concat(Common(straight, "--steps", "6")).ToArray()).Code);

        var first = Path.Combine(_dir, "first.png");
        var runDir = Path.Combine(_dir, "first.run");
        var (code, text) = Generate(new[] { "a tree" }.Concat(Common(first, "--steps", "3", "--run-dir", runDir)).ToArray());
        Assert.Equal(0, code);
        Assert.Contains("Resumable run: " + runDir, text);

        var resumed = Path.Combine(_dir, "resumed.png");
        (code, text) = Generate("--resume", runDir, "--clip", TinyModels.ClipPath, "--steps", "6", "--out", resumed);
        Assert.True(code == 0, text);
        Assert.Contains("Resuming", text);
        Assert.Equal(ImageIO.Load(straight).data<float>().ToArray(), ImageIO.Load(resumed).data<float>().ToArray());
    }

    [Fact]
    public void SeveralStartsKeepTheBestAndSayWhichTooManyTrialStepsAreNamed()
    {
        var output = Path.Combine(_dir, "starts.png");
        var (code, text) = Generate(Common(output, "a tree", "--steps", "4", "--starts", "3", "--trial-steps", "2"));
        Assert.True(code == 0, text);
        var kept = System.Text.RegularExpressions.Regex.Match(text.Replace("\n", " "), @"3 starts after 2 steps: seed 5 [0-9.]+, seed 6 [0-9.]+, seed 7 [0-9.]+; kept seed ([567])\.");
        Assert.True(kept.Success, text);
        // the picture records the kept seed, and a plain run of that seed makes the same picture
        var chunks = ImageIO.ReadPngText(output);
        Assert.Equal(kept.Groups[1].Value, chunks["seed"]);
        var plain = Path.Combine(_dir, "plain.png");
        var args = Common(plain, "a tree", "--steps", "4");
        args[Array.IndexOf(args, "--seed") + 1] = kept.Groups[1].Value;
        Assert.Equal(0, Generate(args).Code);
        Assert.Equal(ImageIO.Load(output).data<float>().ToArray(), ImageIO.Load(plain).data<float>().ToArray());

        (code, text) = Generate(Common(Path.Combine(_dir, "bad.png"), "a tree", "--steps", "4", "--starts", "2", "--trial-steps", "5"));
        Assert.Equal(1, code);
        Assert.Contains("The trial steps of each start must be between 1 and the number of steps (4); got 5", text);
    }

    [Fact]
    public void AFlatStartIsRecordedInThePicturesCommand()
    {
        var output = Path.Combine(_dir, "flat.png");
        var (code, text) = Generate("a tree", "--generator", "vqgan", "--clip", TinyModels.ClipPath, "--vqgan", TinyModels.VqganPath,
            "--vqgan-config", TinyModels.VqganConfigPath, "--size", "64x64", "--cutn", "2", "--steps", "1", "--seed", "1", "--init", "flat", "--out", output);
        Assert.True(code == 0, text);
        var chunks = ImageIO.ReadPngText(output);
        Assert.Contains("--init flat", chunks["command"]);
        Assert.Contains("\"init\":\"Flat\"", chunks["generator_settings"]);
    }

    [Theory]
    [InlineData("--size", "forty", "The size 'forty' is not WxH")]
    [InlineData("--optimizer", "adamm", "Unknown optimizer 'adamm'")]
    [InlineData("--cut-method", "fancy", "The cut method 'fancy' is not one of: original, augmented")]
    [InlineData("--generator", "crayons", "The generator 'crayons' is not one of: vqgan, pixels, fourier, strokes")]
    [InlineData("--image-prompt", "missing.png:0.5", "The image prompt 'missing.png' does not exist")]
    [InlineData("--starts", "0", "The number of starts must be at least 1")]
    [InlineData("--init", "blank", "The start 'blank' is not one of: codes, flat, noise")]
    public void BadOptionsSayWhatIsWrong(string option, string value, string message)
    {
        var args = new[] { "a tree", "--clip", TinyModels.ClipPath, "--generator", "pixels", "--steps", "1", "--out", Path.Combine(_dir, "x.png") }.ToList();
        int i = args.IndexOf(option);
        if (i >= 0) args[i + 1] = value; else args.AddRange(new[] { option, value });
        var (code, text) = Generate(args.ToArray());
        Assert.Equal(1, code);
        Assert.Contains(message, text);
    }

    [Fact]
    public void AMalformedPromptPointsAtTheColumn()
    {
        var (code, text) = Generate("a tree:heavy", "--clip", TinyModels.ClipPath, "--generator", "pixels", "--out", Path.Combine(_dir, "x.png"));
        Assert.Equal(1, code);
        Assert.Contains("Weight 'heavy' is not a number", text);
        Assert.Contains("(column 8)", text);
    }
}
