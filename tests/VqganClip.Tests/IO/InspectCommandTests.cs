using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Cli.Commands;

namespace VqganClip.Tests.IO;

public class InspectCommandTests
{
    private static (IAnsiConsole Console, StringWriter Output) TestConsole() => CliTestConsole.Create(200);

    private static int Invoke(IAnsiConsole console, params string[] args)
    {
        var root = new RootCommand("test") { InspectCommand.Create(console) };
        return CliApp.Run(root, args, console);
    }

    [Fact]
    public void Inspect_prints_format_metadata_and_every_tensor()
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "inspect", IoFixtures.Vqgan("last.ckpt")));
        var text = output.ToString();
        Assert.Contains("torch-zip", text);
        Assert.Contains("global_step", text);
        Assert.Contains("1234", text);
        Assert.Contains("encoder.conv_in.weight", text);
        Assert.Contains("[32, 3, 3, 3]", text);
        Assert.Contains("quantize.embedding.weight", text);
        Assert.Contains("[64, 16]", text);
    }

    [Fact]
    public void Inspect_json_is_one_parsable_object_with_names_dtypes_and_shapes()
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "inspect", IoFixtures.Clip("openai_jit.pt"), "--json"));
        using var doc = JsonDocument.Parse(output.ToString());
        var root = doc.RootElement;
        Assert.Equal("torchscript", root.GetProperty("format").GetString());
        Assert.Equal(root.GetProperty("tensors").GetArrayLength(), root.GetProperty("tensorCount").GetInt32());
        var positional = root.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "positional_embedding");
        Assert.Equal("float32", positional.GetProperty("dtype").GetString());
        Assert.Equal([77, 16], positional.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
    }

    [Fact]
    public void Inspect_of_a_missing_or_broken_file_is_one_red_line_and_exit_code_1()
    {
        using var dir = IoFixtures.NewTempDir();
        var (console, output) = TestConsole();
        Assert.Equal(1, Invoke(console, "inspect", dir.File("nope.safetensors")));
        var broken = dir.File("broken.safetensors");
        File.WriteAllBytes(broken, [1, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        Assert.Equal(1, Invoke(console, "inspect", broken));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains("does not exist", lines[0]);
        Assert.Contains("header", lines[1]);
        Assert.DoesNotContain("   at ", output.ToString());
    }
}
