using System.Text.Json;
using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Tests.Vqgan;

/// <summary>Fixture paths, tolerance checks and small configs shared by the VQGAN tests.</summary>
internal static class VqganTestSupport
{
    static VqganTestSupport() => TorchRuntime.EnsureInitialized();

    public static void EnsureTorch() => TorchRuntime.EnsureInitialized();

    public static string FixtureDir => Path.Combine(AppContext.BaseDirectory, "fixtures", "vqgan-f16-tiny");

    public static string Fixture(string name) => Path.Combine(FixtureDir, name);

    public static (double Abs, double Rel) Tolerance()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture("manifest.json")));
        var tol = doc.RootElement.GetProperty("tolerance");
        return (tol.GetProperty("abs").GetDouble(), tol.GetProperty("rel").GetDouble());
    }

    /// <summary>Asserts |actual - expected| &lt;= abs + rel*|expected| everywhere, naming the worst element.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, string what, (double Abs, double Rel)? tolerance = null)
    {
        var (abs, rel) = tolerance ?? Tolerance();
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64).cpu();
        var a = actual.detach().to(ScalarType.Float64).cpu();
        var excess = (a - e).abs() - (abs + rel * e.abs());
        var worst = excess.argmax().item<long>();
        var worstExcess = excess.flatten()[worst].item<double>();
        Assert.True(worstExcess <= 0,
            $"{what}: element {worst} is {a.flatten()[worst].item<double>()} but the reference is {e.flatten()[worst].item<double>()} " +
            $"(max |diff| {(a - e).abs().max().item<double>():G4}, tolerance abs {abs} + rel {rel})");
    }

    public static void AssertIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.cpu().equal(actual.cpu()).all().item<bool>(), $"{what}: tensors differ (max |diff| {(expected.cpu().to(ScalarType.Float64) - actual.cpu().to(ScalarType.Float64)).abs().max().item<double>():G4})");
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vqgan-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Writes a model's state dict to a .safetensors file, as an exported checkpoint would be.</summary>
    public static void SaveSafetensors(VqganModel model, string path, IEnumerable<(string, Tensor)>? extra = null)
    {
        var tensors = model.state_dict().Select(kv => (kv.Key, kv.Value)).ToList();
        if (extra is not null) tensors.AddRange(extra);
        SafeTensors.Write(path, tensors);
    }

    /// <summary>A taming YAML for a config (what taming's main.py writes as *-project.yaml, minus training keys).</summary>
    public static string ToTamingYaml(VqganConfig c, string target)
    {
        var d = c.DdConfig;
        string List(IEnumerable<int> xs) => "[" + string.Join(", ", xs) + "]";
        return $"""
            model:
              base_learning_rate: 4.5e-06
              target: {target}
              params:
                embed_dim: {c.EmbedDim}
                n_embed: {c.NEmbed}
                ddconfig:
                  double_z: {(d.DoubleZ ? "True" : "False")}
                  z_channels: {d.ZChannels}
                  resolution: {d.Resolution}
                  in_channels: {d.InChannels}
                  out_ch: {d.OutCh}
                  ch: {d.Ch}
                  ch_mult: {List(d.ChMult)}
                  num_res_blocks: {d.NumResBlocks}
                  attn_resolutions: {List(d.AttnResolutions)}
                  dropout: 0.0
                lossconfig:
                  target: taming.modules.losses.vqperceptual.VQLPIPSWithDiscriminator
                  params:
                    disc_start: 10000
            """ + "\n";
    }

    public static VqganConfig SmallConfig(VqganKind kind = VqganKind.VQModel, int[]? chMult = null, int numResBlocks = 1,
        int[]? attn = null, int resolution = 32, int ch = 32, int zChannels = 32, int embedDim = 32, int nEmbed = 24) => new()
    {
        Kind = kind,
        EmbedDim = embedDim,
        NEmbed = nEmbed,
        DdConfig = new VqganDdConfig
        {
            DoubleZ = false,
            ZChannels = zChannels,
            Resolution = resolution,
            InChannels = 3,
            OutCh = 3,
            Ch = ch,
            ChMult = chMult ?? new[] { 1, 2 },
            NumResBlocks = numResBlocks,
            AttnResolutions = attn ?? new[] { resolution / 2 },
            Dropout = 0.0,
        },
    };

    public static Tensor RandomImage(long side, long seed, long batch = 1)
    {
        var generator = new Generator((ulong)seed);
        return (torch.rand(new[] { batch, 3L, side, side }, generator: generator) * 2 - 1);
    }
}
