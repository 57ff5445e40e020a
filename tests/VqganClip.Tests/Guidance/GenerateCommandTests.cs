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

    private static (int Code, string Output) Generate(params string[] args) => GenerateAtWidth(250, args);

    private static (int Code, string Output) GenerateAtWidth(int width, params string[] args)
    {
        var (console, output) = CliTestConsole.Create(width);
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

    /// <summary>The biggan-deep-tiny fixture as a user has it: pytorch_model.bin with its config.json, in a folder.</summary>
    private string BigGanFolder()
    {
        var folder = Path.Combine(_dir, "biggan-deep-tiny");
        Directory.CreateDirectory(folder);
        foreach (var name in new[] { "pytorch_model.bin", "config.json" })
            File.Copy(TestSetup.Fixtures("biggan-deep-tiny", name), Path.Combine(folder, name));
        return folder;
    }

    [Fact]
    public void BigganDrawsWithBigSleepsDefaultsAndResumes()
    {
        var biggan = BigGanFolder();
        var straight = Path.Combine(_dir, "sleep.png");
        // the fixture's 10 classes have no names, so CLIP cannot choose one (the default start): upstream's start
        string[] Args(string output, params string[] more) =>
            new[] { "a red rose", "--clip", TinyModels.ClipPath, "--biggan", biggan, "--class", "none", "--cutn", "3", "--seed", "2", "--out", output }.Concat(more).ToArray();
        var (code, text) = Generate(Args(straight, "--steps", "4"));
        Assert.True(code == 0, text);
        var chunks = ImageIO.ReadPngText(straight);
        Assert.Equal("biggan", chunks["generator"]);   // --biggan alone chooses the generator
        Assert.Equal("32x32", chunks["size"]);
        Assert.Equal("pytorch_model.bin", chunks["biggan"]);
        Assert.Contains("\"LearningRate\":0.01", chunks["options"]);   // Big Sleep's Adam at the toolkit's 0.01 (RunRecipe.BigSleepChosen)
        Assert.Contains("\"CutMethod\":\"Augmented\"", chunks["options"]);   // the toolkit's (RunRecipe.BigSleepChosen)
        // without names, the default start (CLIP's class) says what to give instead
        (code, text) = Generate(new[] { "a red rose", "--clip", TinyModels.ClipPath, "--biggan", biggan, "--steps", "1", "--out", Path.Combine(_dir, "auto.png") });
        Assert.NotEqual(0, code);
        Assert.Contains("have no names", text);
        Assert.Contains("--class none", text.Replace("\n", " "));
        Assert.Contains("--prompt-loss cosine", chunks["command"]);
        Assert.Contains("--ema-decay 0.5", chunks["command"]);

        // a run folder resumes to the same picture, the moving average included
        var first = Path.Combine(_dir, "sleep-first.png");
        var runDir = Path.Combine(_dir, "sleep.run");
        Assert.Equal(0, Generate(Args(first, "--steps", "2", "--run-dir", runDir)).Code);
        var resumed = Path.Combine(_dir, "sleep-resumed.png");
        (code, text) = Generate("--resume", runDir, "--clip", TinyModels.ClipPath, "--biggan", biggan, "--steps", "4", "--out", resumed);
        Assert.True(code == 0, text);
        Assert.Equal(ImageIO.Load(straight).data<float>().ToArray(), ImageIO.Load(resumed).data<float>().ToArray());

        // a given option wins over Big Sleep's default; a size the BigGAN cannot draw and a file that is not a BigGAN are named
        var mine = Path.Combine(_dir, "sleep-lr.png");
        Assert.Equal(0, Generate(Args(mine, "--steps", "1", "--lr", "0.2")).Code);
        Assert.Contains("\"LearningRate\":0.2", ImageIO.ReadPngText(mine)["options"]);
        (code, text) = Generate(Args(Path.Combine(_dir, "big.png"), "--steps", "1", "--size", "64"));
        Assert.NotEqual(0, code);
        Assert.Contains("draws at its model's size, 32x32", text);
        (code, text) = Generate(new[] { "a red rose", "--clip", TinyModels.ClipPath, "--biggan", TinyModels.VqganPath, "--steps", "1", "--out", Path.Combine(_dir, "v.png") });
        Assert.NotEqual(0, code);
        Assert.Contains("not a BigGAN", text);
    }

    [Fact]
    public void BigganStartsFromTheClassClipChoosesAndThePictureSaysHowToMakeItAgain()
    {
        var biggan = BigGanFolder();
        File.WriteAllLines(Path.Combine(biggan, "pytorch_model.classes.txt"),
            ["red rose", "daisy", "tulip", "sunflower", "orchid", "lily", "poppy", "violet", "iris", "lotus"]);
        string[] Args(string output, params string[] more) =>
            new[] { "a photo of a violet.", "--clip", TinyModels.ClipPath, "--biggan", biggan, "--cutn", "3", "--seed", "2", "--out", output }.Concat(more).ToArray();
        var straight = Path.Combine(_dir, "violet.png");
        var (code, text) = Generate(Args(straight, "--steps", "2", "--class", "auto", "--candidates", "3"));
        Assert.True(code == 0, text);
        Assert.Contains("Start: class 7 'violet' (chosen by CLIP zero-shot), best of 3 latents: candidate", text.Replace("\n", " "));
        var chunks = ImageIO.ReadPngText(straight);
        Assert.Contains("--class \"auto\" --candidates 3", chunks["command"]);
        Assert.Contains("\"start\":\"auto;3\"", chunks["generator_settings"]);

        // the same options make the same picture; a run folder resumes it and still says how it started
        var again = Path.Combine(_dir, "violet-again.png");
        Assert.Equal(0, Generate(Args(again, "--steps", "2", "--class", "auto", "--candidates", "3")).Code);
        Assert.Equal(ImageIO.Load(straight).data<float>().ToArray(), ImageIO.Load(again).data<float>().ToArray());
        var runDir = Path.Combine(_dir, "violet.run");
        Assert.Equal(0, Generate(Args(Path.Combine(_dir, "violet-first.png"), "--steps", "1", "--class", "auto", "--candidates", "3", "--run-dir", runDir)).Code);
        var resumed = Path.Combine(_dir, "violet-resumed.png");
        (code, text) = Generate("--resume", runDir, "--clip", TinyModels.ClipPath, "--biggan", biggan, "--steps", "2", "--out", resumed);
        Assert.True(code == 0, text);
        Assert.Equal(ImageIO.Load(straight).data<float>().ToArray(), ImageIO.Load(resumed).data<float>().ToArray());
        Assert.Contains("--class \"auto\" --candidates 3", ImageIO.ReadPngText(resumed)["command"]);

        // CLIP's class from 128 latents unless asked (RunRecipe.BigSleepChosen), upstream's start with --class none;
        // a class the model does not have is named
        Assert.Equal(0, Generate(Args(Path.Combine(_dir, "plain.png"), "--steps", "1")).Code);
        Assert.Contains("--class \"auto\" --candidates 128", ImageIO.ReadPngText(Path.Combine(_dir, "plain.png"))["command"]);
        Assert.Equal(0, Generate(Args(Path.Combine(_dir, "upstream.png"), "--steps", "1", "--class", "none")).Code);
        Assert.Contains("--class \"none\"", ImageIO.ReadPngText(Path.Combine(_dir, "upstream.png"))["command"]);
        (code, text) = Generate(Args(Path.Combine(_dir, "x.png"), "--steps", "1", "--class", "tulips"));
        Assert.NotEqual(0, code);
        Assert.Contains("The class 'tulips' is not one of the BigGAN's class names", text.Replace("\n", " "));
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
    public void AResumedRunWritesToItsOriginalOutputUnlessOutIsGivenAgain()
    {
        var first = Path.Combine(_dir, "sub", "first.png");
        var runDir = Path.Combine(_dir, "first.run");
        Assert.Equal(0, Generate(new[] { "a tree" }.Concat(Common(first, "--steps", "2", "--run-dir", runDir)).ToArray()).Code);

        // run from another folder, without --out: the picture goes back to sub/first.png, not into the current folder
        var (code, text) = Generate("--resume", runDir, "--clip", TinyModels.ClipPath, "--steps", "3");
        Assert.True(code == 0, text);
        Assert.Contains("Image: " + first, text);
        Assert.Equal("3", ImageIO.ReadPngText(first)["step"]);

        var elsewhere = Path.Combine(_dir, "elsewhere.png");
        (code, text) = Generate("--resume", runDir, "--clip", TinyModels.ClipPath, "--steps", "3", "--out", elsewhere);
        Assert.True(code == 0, text);
        Assert.Contains("Image: " + elsewhere, text);
        Assert.True(File.Exists(elsewhere));
    }

    [Fact]
    public void TheResumeCommandStaysOnOneLineInANarrowConsole()
    {
        var runDir = Path.Combine(_dir, "a-rather-long-folder-name-for-the-run.run");
        var (code, text) = GenerateAtWidth(40, new[] { "a tree" }.Concat(Common(Path.Combine(_dir, "narrow.png"), "--steps", "1", "--run-dir", runDir)).ToArray());
        Assert.True(code == 0, text);
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        Assert.Contains($"vqgan-clip generate --resume \"{runDir}\" --steps 1", lines);
    }

    [Theory]
    [InlineData("pixels")]
    [InlineData("vqgan")]
    public void APictureTooLargeForMemoryIsRefusedWithTheLargestThatFits(string generator)
    {
        var (code, text) = Generate("a tree", "--generator", generator, "--clip", TinyModels.ClipPath, "--vqgan", TinyModels.VqganPath,
            "--vqgan-config", TinyModels.VqganConfigPath, "--size", "100000x100000", "--steps", "1", "--out", Path.Combine(_dir, "huge.png"));
        Assert.Equal(1, code);
        var said = System.Text.RegularExpressions.Regex.Match(text.ReplaceLineEndings(" "),
            $@"error: A 100000x100000 picture needs about [0-9.]+ [KMGTPE]B of memory for a step of the {generator} generator, and [0-9.]+ [KMGT]?B is available: " +
            @"the largest square picture that fits is about (\d+)x\1\. Pass --size \1 or smaller\.");
        Assert.True(said.Success, text);
        Assert.InRange(int.Parse(said.Groups[1].Value), 64, 100_000);
        Assert.False(File.Exists(Path.Combine(_dir, "huge.png")));
    }

    [Fact]
    public void PromptWordsTheClipNeverSawAreNamedInAWarning()
    {
        // a copy of the tiny CLIP (and its config) given the shipped CLIP's vocabulary file, as data/clipart-clip.safetensors has it
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "clip")).FullName;
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(TinyModels.ClipPath)!))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var clip = Path.Combine(folder, Path.GetFileName(TinyModels.ClipPath));
        File.Copy(Path.Combine(TestSetup.RepoRoot, "data", "clipart-clip.vocab.txt"), Path.ChangeExtension(clip, ".vocab.txt"));
        string[] Args(string prompt) => new[] { prompt, "--clip", clip, "--generator", "pixels", "--size", "40x40", "--cutn", "2", "--steps", "0", "--out", Path.Combine(_dir, "w.png") };

        var (code, text) = Generate(Args("a photo of a cat"));
        Assert.True(code == 0, text);
        var oneLine = text.ReplaceLineEndings(" ");
        Assert.Contains("warning: the CLIP openai.safetensors never saw 'photo', 'cat' in training, so those words guide towards nothing.", oneLine);
        Assert.Contains("It knows objects: circle, square, triangle, star, heart, sun, moon, tree, house, cloud, flower, boat; colours: red, orange,", oneLine);

        (code, text) = Generate(Args("a red star above a blue house"));
        Assert.True(code == 0, text);
        Assert.DoesNotContain("warning", text);

        // a CLIP without a vocabulary file (OpenAI's) is not checked
        (code, text) = Generate("a photo of a cat", "--clip", TinyModels.ClipPath, "--generator", "pixels", "--size", "40x40", "--steps", "0", "--out", Path.Combine(_dir, "o.png"));
        Assert.True(code == 0, text);
        Assert.DoesNotContain("warning", text);
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

    [Fact]
    public void StyleAndFeaturePicturesAreRecordedInThePicturesCommandWithFullPaths()
    {
        var start = Path.Combine(_dir, "start.png");
        var style = Path.Combine(_dir, "style.png");
        using (var p = TorchSharp.torch.rand(1, 3, 40, 40)) ImageIO.Save(p, start);
        using (var p = TorchSharp.torch.rand(1, 3, 32, 32)) ImageIO.Save(p, style);
        var output = Path.Combine(_dir, "styled.png");
        var (code, text) = Generate(Common(output, "a tree", "--steps", "2", "--init-image", start, "--style-image", style, "--style-weight", "30", "--feature-weight", "0.25"));
        Assert.True(code == 0, text);
        var chunks = ImageIO.ReadPngText(output);
        Assert.Contains($"--style-image \"{style}\" --style-weight 30", chunks["command"]);
        Assert.Contains($"--feature-image \"{start}\" --feature-weight 0.25", chunks["command"]);
        Assert.Equal(style, chunks["style_image"]);
    }

    [Theory]
    [InlineData("--size", "forty", "The size 'forty' is not WxH")]
    [InlineData("--optimizer", "adamm", "Unknown optimizer 'adamm'")]
    [InlineData("--cut-method", "fancy", "The cut method 'fancy' is not one of: original, augmented")]
    [InlineData("--generator", "crayons", "The generator 'crayons' is not one of: vqgan, pixels, fourier, strokes")]
    [InlineData("--image-prompt", "missing.png:0.5", "The image prompt 'missing.png' does not exist")]
    [InlineData("--starts", "0", "The number of starts must be at least 1")]
    [InlineData("--init", "blank", "The start 'blank' is not one of: codes, flat, noise")]
    [InlineData("--cutn", "100000", "CutCount must be between 1 and 1024; got 100000.")]
    [InlineData("--style-image", "no-style.png", "The style picture 'no-style.png' does not exist")]
    [InlineData("--feature-weight", "0.5", "The feature term (FeatureWeight) needs a picture to stay close to")]
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
