using VqganClip.Cli.Commands;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;

namespace VqganClip.Tests.IO;

/// <summary>
/// An HTML page (a failed download) or a git-lfs pointer (a clone without git lfs) where a checkpoint or a
/// config should be: every loader says what the file is and what to do, instead of a parse error.
/// </summary>
public class StandInFileTests
{
    private const string Html = "\uFEFF\n  <!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please log in</body></html>\n";
    private const string HtmlNoDoctype = "<HTML lang=\"en\"><body>502 Bad Gateway</body></HTML>";
    private const string LfsPointer = "version https://git-lfs.github.com/spec/v1\noid sha256:4a1b7ea3ef51e8bc5f3c0d3c7b0c8d1c2e6a4f0e9d8c7b6a5f4e3d2c1b0a9f8e\nsize 605156524\n";

    private static string HtmlMessage(string path, string what = "a checkpoint") =>
        $"'{path}' is an HTML page, not {what} (a failed or interrupted download?): download the file again";

    private static string LfsMessage(string path, string what = "a checkpoint") =>
        $"'{path}' is a git-lfs pointer (605,156,524 bytes expected), not {what}: run `git lfs pull` in that clone or download the file directly";

    public static TheoryData<string, string> StandIns => new()
    {
        { "html", Html },
        { "html-no-doctype", HtmlNoDoctype },
        { "lfs", LfsPointer },
    };

    private static string Expected(string kind, string path, string what = "a checkpoint") =>
        kind == "lfs" ? LfsMessage(path, what) : HtmlMessage(path, what);

    [Theory]
    [MemberData(nameof(StandIns))]
    public void Checkpoint_Load_and_Inspect_name_the_stand_in(string kind, string content)
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("model.ckpt");
        File.WriteAllText(path, content);
        Assert.Equal(Expected(kind, path), Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(path)).Message);
        Assert.Equal(Expected(kind, path), Assert.Throws<CheckpointFormatException>(() => Checkpoint.Inspect(path)).Message);
    }

    [Theory]
    [MemberData(nameof(StandIns))]
    public void The_CLIP_loader_names_the_stand_in_checkpoint_and_config(string kind, string content)
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("open_clip_pytorch_model.bin");
        File.WriteAllText(path, content);
        Assert.Equal(Expected(kind, path), Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(path)).Message);

        // A real checkpoint with a stand-in config, given or found beside it.
        var clip = dir.File("open_clip_model.safetensors");
        File.Copy(IoFixtures.Clip("openai.safetensors"), clip);
        var config = dir.File("open_clip_config.json");
        File.WriteAllText(config, content);
        Assert.Equal(Expected(kind, config, "a CLIP config"),
            Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(clip, options: new ClipLoadOptions { ConfigPath = config })).Message);
        Assert.Equal(Expected(kind, config, "a CLIP config"), Assert.Throws<CheckpointFormatException>(() => ClipModel.Load(clip)).Message);
    }

    [Theory]
    [MemberData(nameof(StandIns))]
    public void The_VQGAN_loader_names_the_stand_in_checkpoint_and_YAML(string kind, string content)
    {
        using var dir = IoFixtures.NewTempDir();
        var ckpt = dir.File("last.ckpt");
        File.WriteAllText(ckpt, content);
        Assert.Equal(Expected(kind, ckpt), Assert.Throws<CheckpointFormatException>(() => VqganModel.Load(ckpt)).Message);
        Assert.Equal(Expected(kind, ckpt), Assert.Throws<CheckpointFormatException>(() => VqganModel.Load(ckpt, IoFixtures.Vqgan("model.yaml"))).Message);

        var yaml = dir.File("model.yaml");
        File.WriteAllText(yaml, content);
        Assert.Equal(Expected(kind, yaml, "a VQGAN config"), Assert.Throws<InvalidDataException>(() => VqganConfig.FromYaml(yaml)).Message);
        Assert.Equal(Expected(kind, yaml, "a VQGAN config"),
            Assert.Throws<InvalidDataException>(() => VqganModel.Load(IoFixtures.Vqgan("model.safetensors"), yaml)).Message);
    }

    [Fact]
    public void Inspect_prints_it_as_one_red_line()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("ViT-B-32.pt");
        File.WriteAllText(path, LfsPointer);
        var (console, output) = CliTestConsole.Create(400);
        var root = new System.CommandLine.RootCommand { InspectCommand.Create(console) };
        Assert.Equal(1, VqganClip.Cli.CliApp.Run(root, ["inspect", path], console));
        Assert.Equal("error: " + LfsMessage(path), output.ToString().Trim());
    }

    [Fact]
    public void Text_that_merely_mentions_html_or_lfs_is_not_taken_for_a_stand_in()
    {
        var head = "version 2\nsee <html> and https://git-lfs.github.com/spec/v1\n"u8;
        Assert.Null(StandInFiles.Describe(head, "x"));
        Assert.Null(StandInFiles.Describe("version https://git-lfs.github.com/spec/v1\nno oid here\n"u8, "x"));
    }
}
