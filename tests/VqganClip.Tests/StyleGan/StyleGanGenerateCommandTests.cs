using System.CommandLine;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Images;
using VqganClip.Tests.Guidance;

namespace VqganClip.Tests.StyleGan;

/// <summary><c>generate --stylegan</c> on the stylegan2-tiny fixture's .pt and the clip-vit-tiny CLIP.</summary>
public sealed class StyleGanGenerateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqgan-clip-stylegan").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) Generate(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(250);
        var root = new RootCommand("test") { GenerateCommand.Create(console) };
        int code = CliApp.Run(root, new[] { "generate" }.Concat(args).ToArray(), console);
        return (code, output.ToString());
    }

    private static string StyleGanPath => StyleGanTestSupport.Fixture("stylegan2-tiny.pt");

    private string[] Args(string output, params string[] more) =>
        new[] { "a dog", "--clip", TinyModels.ClipPath, "--stylegan", StyleGanPath, "--seed", "2", "--out", output }.Concat(more).ToArray();

    [Fact]
    public void Stylegan_draws_with_styleclips_defaults_and_resumes()
    {
        var straight = Path.Combine(_dir, "edit.png");
        var (code, text) = Generate(Args(straight, "--steps", "4"));
        Assert.True(code == 0, text);
        var chunks = ImageIO.ReadPngText(straight);
        Assert.Equal("stylegan", chunks["generator"]);   // --stylegan alone chooses the generator
        Assert.Equal("32x32", chunks["size"]);
        Assert.Equal("stylegan2-tiny.pt", chunks["stylegan"]);
        Assert.Contains("\"CutMethod\":\"StyleClip\"", chunks["options"]);
        Assert.Contains("\"Schedule\":\"styleclip:4\"", chunks["options"]);
        Assert.Contains("--prompt-loss styleclip", chunks["command"]);
        Assert.Contains("--l2-lambda 0.008", chunks["command"]);

        var first = Path.Combine(_dir, "first.png");
        var runDir = Path.Combine(_dir, "edit.run");
        Assert.Equal(0, Generate(Args(first, "--steps", "2", "--run-dir", runDir)).Code);
        var resumed = Path.Combine(_dir, "resumed.png");
        (code, text) = Generate("--resume", runDir, "--clip", TinyModels.ClipPath, "--stylegan", StyleGanPath, "--steps", "4", "--out", resumed);
        Assert.True(code == 0, text);
        Assert.Equal(ImageIO.Load(straight).data<float>().ToArray(), ImageIO.Load(resumed).data<float>().ToArray());
    }

    [Fact]
    public void Free_stylespace_and_l2_options_reach_the_run_and_errors_are_named()
    {
        var free = Path.Combine(_dir, "free.png");
        var (code, text) = Generate(Args(free, "--steps", "2", "--free", "--stylespace"));
        Assert.True(code == 0, text);
        var command = ImageIO.ReadPngText(free)["command"];
        Assert.Contains("--free", command);
        Assert.Contains("--stylespace", command);

        // --generator stylegan without --stylegan takes the shipped clipart StyleGAN2 (64 px)
        var shipped = Path.Combine(_dir, "x.png");
        (code, text) = Generate("a dog", "--clip", TinyModels.ClipPath, "--generator", "stylegan", "--steps", "1", "--out", shipped);
        Assert.True(code == 0, text);
        Assert.Equal("clipart-stylegan.safetensors", ImageIO.ReadPngText(shipped)["stylegan"]);
        Assert.Equal("64x64", ImageIO.ReadPngText(shipped)["size"]);
        (code, text) = Generate(Args(Path.Combine(_dir, "y.png"), "--steps", "1", "--size", "64"));
        Assert.NotEqual(0, code);
        Assert.Contains("draws at its model's size, 32x32", text);
        (code, text) = Generate("a dog", "--clip", TinyModels.ClipPath, "--stylegan", TinyModels.ClipPath, "--steps", "1", "--out", Path.Combine(_dir, "z.png"));
        Assert.NotEqual(0, code);
        Assert.Contains("not a rosinality StyleGAN2 generator", text);
    }
}
