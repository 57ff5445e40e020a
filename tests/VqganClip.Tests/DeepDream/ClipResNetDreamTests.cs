using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Guidance.DeepDream;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using static TorchSharp.torch;
using static VqganClip.Tests.DeepDream.DeepDreamTestSupport;

namespace VqganClip.Tests.DeepDream;

/// <summary>DeepDream on CLIP's own ResNet image tower (a tiny random ModifiedResNet here: RN50 files are not shipped).</summary>
public sealed class ClipResNetDreamTests
{
    private static ModifiedResNet TinyTower()
    {
        manual_seed(4);
        var tower = new ModifiedResNet([1, 2, 1, 1], outputDim: 16, heads: 1, inputResolution: 64, width: 16);
        tower.eval();
        foreach (var p in tower.parameters()) p.requires_grad_(false);
        return tower;
    }

    [Fact]
    public void The_layers_by_name_are_the_forward_pass_itself()
    {
        using var scope = NewDisposeScope();
        using var tower = TinyTower();
        Assert.Equal(new[] { "stem", "stem.pool", "layer1.0", "layer1", "layer2.0", "layer2.1", "layer2", "layer3.0", "layer3", "layer4.0", "layer4" }, tower.LayerNames);
        var x = randn(new long[] { 1, 3, 64, 64 }, generator: new TorchSharp.torch.Generator(2));
        using var _ = no_grad();
        var acts = tower.Activations(x, ["layer2.1", "layer4"]);
        Assert.Equal(new long[] { 1, 512, 2, 2 }, acts["layer4"].shape);
        Assert.Equal(new long[] { 1, 128, 8, 8 }, acts["layer2.1"].shape);
        Assert.True(tower.attnpool.forward(acts["layer4"]).allclose(tower.forward(x), 1e-5, 1e-6), "attnpool(layer4) is the tower's output");
        Assert.True(tower.Activations(x, ["layer2"])["layer2"].equal(acts["layer2.1"]).all().item<bool>(), "a stage's output is its last block's");
        Assert.Throws<ArgumentException>(() => tower.Activations(x, ["layer5"]));
    }

    [Fact]
    public void A_short_dream_on_the_tower_changes_the_picture_and_repeats()
    {
        using var scope = NewDisposeScope();
        using var tower = TinyTower();
        var network = new ClipResNetDreamNetwork(tower);
        Assert.Equal(256, network.Channels("layer3"));
        var dreamer = new DeepDreamer(network);
        var picture = Picture(64, 64, 5);
        var settings = new DreamSettings { Layer = "layer2", Octaves = 1, Steps = 2, Jitter = 4, Seed = 1 };
        var objectives = new List<double>();
        var a = dreamer.Dream(picture, settings, p => objectives.Add(p.Objective));
        double change = (a - picture).abs().mean().item<float>();
        Assert.True(change > 1e-3, $"mean |change| {change}, objectives {string.Join(", ", objectives)}");
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        Assert.True(a.equal(dreamer.Dream(picture, settings)).all().item<bool>());
        Assert.True(network.Deprocess(network.Preprocess(picture)).allclose(picture, 1e-5, 1e-5));
        // default layer: layer3
        Assert.Equal(picture.shape, dreamer.Dream(picture, settings with { Layer = null, Steps = 1 }).shape);
    }

    [Fact]
    public void The_command_refuses_a_ViT_clip()
    {
        var dir = TempDir();
        var image = Path.Combine(dir, "in.png");
        using (var p = Picture(64, 64, 1)) ImageIO.Save(p, image);
        var (console, output) = CliTestConsole.Create(200);
        int code = CliApp.Run(ToolkitCommands.CreateRoot(console), ["dream", image, "--octaves", "1", "--clip", TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors")], console);
        Assert.Equal(1, code);
        Assert.Contains("ViT CLIP", output.ToString());
    }
}
