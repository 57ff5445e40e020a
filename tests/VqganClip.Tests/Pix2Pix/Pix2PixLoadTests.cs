using VqganClip.Models.IO;
using VqganClip.Models.Pix2Pix;
using static TorchSharp.torch;
using static VqganClip.Tests.Pix2Pix.Pix2PixTestSupport;

namespace VqganClip.Tests.Pix2Pix;

/// <summary>Loading generators: upstream's plain latest_net_G.pth, safetensors round trips, inferred shapes, and the errors for files that are not one.</summary>
public class Pix2PixLoadTests
{
    [Fact]
    public void PlainGeneratorStateDict_AsLatestNetGHoldsIt_Loads()
    {
        // latest_net_G.pth is netG.state_dict() alone: the G. entries of the fixture re-saved under their own names
        // (as safetensors: there is no torch.save writer here; the .pth reading itself is Generator_FromPth_EqualsFromSafetensors).
        var dir = TempDir();
        var path = Path.Combine(dir, "latest_net_G.safetensors");
        using (var all = Checkpoint.Load(Fixture("init.safetensors")))
            SafeTensors.Write(path, all.Keys.Where(k => k.StartsWith("G.")).Select(k => (k[2..], all[k])));
        using var g = UnetGenerator.Load(path);
        using var reference = LoadG();
        Assert.Equal(reference.Config, g.Config);
        var expected = reference.state_dict();
        foreach (var (name, t) in g.state_dict()) Assert.True(expected[name].eq(t).all().item<bool>(), name);
    }

    [Fact]
    public void Save_ThenLoad_GivesTheSameNetworkAndConfig()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "g.safetensors");
        manual_seed(5);
        using var g = new UnetGenerator(new UnetConfig(1, 3, 5, 4, Pix2PixNorm.Instance, UseDropout: false));
        g.Save(path);
        using var back = UnetGenerator.Load(path);
        Assert.Equal(g.Config, back.Config);
        using var x = rand(2, 1, 32, 32) * 2 - 1;
        using var a = g.Generate(x);
        using var b = back.Generate(x);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Theory]
    [InlineData(5, 4, Pix2PixNorm.Batch)]
    [InlineData(7, 8, Pix2PixNorm.Instance)]
    [InlineData(8, 2, Pix2PixNorm.Batch)]
    public void Config_IsInferredFromAnyUnetsTensors(int numDowns, int ngf, Pix2PixNorm norm)
    {
        var config = new UnetConfig(3, 3, numDowns, ngf, norm);
        using var g = new UnetGenerator(config);
        var shapes = g.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(config, Pix2PixCheckpointLayout.InferConfig(shapes, "x.pth"));
    }

    [Fact]
    public void Unet256_HasUpstreamsParameterCount()
    {
        // upstream prints "[Network G] Total number of parameters : 54.414 M" for pix2pix's default unet_256.
        using var g = new UnetGenerator(UnetConfig.Unet256());
        long count = g.parameters().Sum(p => p.numel());
        Assert.Equal(54.414, Math.Round(count / 1e6, 3));
        Assert.Equal(3, g.Blocks().Count(b => b.Dropout is not null)); // num_downs − 5
    }

    [Fact]
    public void DiscriminatorFile_IsRefused_NamingTheMissingTensor()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "latest_net_D.safetensors");
        using (var all = Checkpoint.Load(Fixture("init.safetensors")))
            SafeTensors.Write(path, all.Keys.Where(k => k.StartsWith("D.")).Select(k => (k[2..], all[k])));
        var e = Assert.Throws<CheckpointFormatException>(() => UnetGenerator.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("model.model.0.weight", e.Message);
        Assert.Contains("discriminator", e.Message);
    }

    [Fact]
    public void TruncatedGenerator_IsRefused_NamingTheMissingTensors()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "broken.safetensors");
        using (var all = Checkpoint.Load(Fixture("init.safetensors")))
            SafeTensors.Write(path, all.Keys.Where(k => k.StartsWith("G.") && !k.EndsWith("model.model.3.bias")).Select(k => (k[2..], all[k])));
        var e = Assert.Throws<CheckpointFormatException>(() => UnetGenerator.Load(path));
        Assert.Contains("missing: model.model.3.bias", e.Message);
    }

    [Fact]
    public void WrongConfig_IsRefused_NamingTensorAndShapes()
    {
        var e = Assert.Throws<CheckpointFormatException>(() =>
            UnetGenerator.Load(Fixture("init.safetensors"), new UnetConfig(3, 3, 6, 16), prefix: "G."));
        Assert.Contains("'model.model.0.weight' has shape [8, 3, 4, 4]", e.Message);
        Assert.Contains("[16, 3, 4, 4]", e.Message);
    }

    [Fact]
    public void NotACheckpoint_AndMissingFile_AreNamed()
    {
        var dir = TempDir();
        var text = Path.Combine(dir, "notes.pth");
        File.WriteAllText(text, "this is not a checkpoint at all");
        var e = Assert.Throws<CheckpointFormatException>(() => UnetGenerator.Load(text));
        Assert.Contains(text, e.Message);
        var missing = Path.Combine(dir, "nope.pth");
        var f = Assert.Throws<FileNotFoundException>(() => UnetGenerator.Load(missing));
        Assert.Contains(missing, f.Message);
    }

    [Fact]
    public void Sides_ThatAreNotMultiplesOf2PowNumDowns_AreRefused()
    {
        using var g = new UnetGenerator(new UnetConfig(3, 3, 5, 4));
        using var x = zeros(1, 3, 48, 40);
        var e = Assert.Throws<ArgumentException>(() => g.Generate(x));
        Assert.Contains("multiples of 32", e.Message);
    }
}
