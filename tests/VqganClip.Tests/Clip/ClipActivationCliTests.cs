using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using TorchSharp;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using VqganClip.Models.IO;

namespace VqganClip.Tests.Clip;

/// <summary><c>--clip-config</c> and <c>--activation</c> on <c>inspect</c> and <c>score</c>, and what they print.</summary>
public class ClipActivationCliTests : ClipTempFolderTest
{
    private static readonly string[] Texts = ["a red circle", "a blue square"];

    private static (IAnsiConsole Console, StringWriter Output) TestConsole() => CliTestConsole.Create(400);

    private static int Invoke(IAnsiConsole console, params string[] args)
    {
        var root = new RootCommand("test") { InspectCommand.Create(console), ScoreCommand.Create(console) };
        return CliApp.Run(root, args, console);
    }

    /// <summary>
    /// A small open_clip-style file (a bare state dict, widths of 64 so the heads follow from the reference's
    /// width/64) with no config beside it, and an image to score. The MLP input weights are large so GELU and
    /// QuickGELU give clearly different features.
    /// </summary>
    private (string Clip, string Image) OpenClipFileAndImage()
    {
        var dir = NewTempDir();
        var clip = Path.Combine(dir, "open_clip_model.safetensors");
        torch.manual_seed(3);
        using (var model = new ClipModel(new ClipConfig
        {
            EmbedDim = 16, ImageResolution = 32, VisionLayers = 1, VisionWidth = 64, VisionPatchSize = 16, VisionHeads = 1,
            ContextLength = 77, VocabSize = 49408, TransformerWidth = 64, TransformerHeads = 1, TransformerLayers = 1,
        }))
        {
            using (torch.no_grad())
                foreach (var (name, p) in model.named_parameters())
                    if (name.Contains("c_fc", StringComparison.Ordinal)) p.normal_(0, 1);
            SafeTensors.Write(clip, model.state_dict().Select(kv => (kv.Key, kv.Value)), null);
        }
        var image = Path.Combine(dir, "image.png");
        using (var pixels = torch.rand(3, 32, 32)) ImageIO.Save(pixels, image);
        return (clip, image);
    }

    private static string InspectActivation(string output)
    {
        var json = JsonNode.Parse(output)!;
        var clip = json["recognized"]!.AsArray().Single(r => r!["model"]!.GetValue<string>().StartsWith("CLIP", StringComparison.Ordinal))!;
        return clip["config"]!["activation"]!.GetValue<string>();
    }

    private static string[] ExpectedCosines(string clip, string image, ClipActivation activation)
    {
        using var model = ClipModel.Load(clip, options: new ClipLoadOptions { Activation = activation });
        using var pixels = ImageIO.Load(image);
        var result = ZeroShot.Score(model, pixels, Texts);
        return result.Cosines[0].Select(c => c.ToString("F4", CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void Inspect_says_which_activation_and_why()
    {
        var (clip, _) = OpenClipFileAndImage();

        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "inspect", clip, "--json"));
        var activation = InspectActivation(output.ToString());
        Assert.StartsWith("gelu (open_clip default; no open_clip_config.json beside the file", activation);
        Assert.EndsWith("— pass --activation gelu|quick-gelu or --clip-config FILE to say it", activation);

        (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "inspect", clip, "--json", "--activation", "quick-gelu"));
        Assert.Equal("quick-gelu (activation override)", InspectActivation(output.ToString()));

        var config = Path.Combine(NewTempDir(), "oc.json");
        File.WriteAllText(config, """{"model_cfg": {"quick_gelu": true, "embed_dim": 16, "vision_cfg": {"width": 64, "layers": 1, "patch_size": 16, "image_size": 32}, "text_cfg": {"width": 64, "heads": 1, "layers": 1}}}""");
        (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, "inspect", clip, "--json", "--clip-config", config));
        Assert.Equal("quick-gelu (oc.json quick_gelu=true)", InspectActivation(output.ToString()));
    }

    [Fact]
    public void Score_prints_the_activation_and_its_cosines_follow_it()
    {
        var (clip, image) = OpenClipFileAndImage();
        var gelu = ExpectedCosines(clip, image, ClipActivation.Gelu);
        var quick = ExpectedCosines(clip, image, ClipActivation.QuickGelu);
        Assert.NotEqual(gelu, quick);

        var (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, ["score", "--clip", clip, image, .. Texts]));
        var text = output.ToString();
        Assert.Contains("activation: gelu (open_clip default; no open_clip_config.json beside the file", text);
        Assert.Contains("— pass --activation gelu|quick-gelu or --clip-config FILE to say it", text);
        Assert.All(gelu, c => Assert.Contains(c, text));

        (console, output) = TestConsole();
        Assert.Equal(0, Invoke(console, ["score", "--clip", clip, "--activation", "quick-gelu", image, .. Texts]));
        text = output.ToString();
        Assert.Contains("activation: quick-gelu (activation override)", text);
        Assert.DoesNotContain("pass --activation", text);
        Assert.All(quick, c => Assert.Contains(c, text));
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("score")]
    public void A_bad_activation_is_an_error_naming_the_value_and_the_choices(string command)
    {
        var (clip, image) = OpenClipFileAndImage();
        var (console, output) = TestConsole();
        string[] args = command == "inspect" ? ["inspect", clip, "--activation", "relu"] : ["score", "--clip", clip, "--activation", "relu", image, "a dog"];
        Assert.Equal(1, Invoke(console, args));
        Assert.Equal("error: --activation 'relu' is not one of: gelu, quick-gelu", output.ToString().Trim());
    }
}
