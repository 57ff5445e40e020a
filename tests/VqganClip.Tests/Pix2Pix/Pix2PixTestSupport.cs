using VqganClip.Models.IO;
using VqganClip.Models.Pix2Pix;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.Pix2Pix;

/// <summary>The pix2pix-tiny fixture: U-Net (num_downs 6, ngf 8) and PatchGAN (ndf 8, n_layers 3, Sigmoid) at init, and their reference outputs.</summary>
internal static class Pix2PixTestSupport
{
    public const string Tiny = "pix2pix-tiny";

    public static string Fixture(string name) => TransformerTestSupport.Fixture(Tiny, name);

    public static (double Abs, double Rel) Tolerance() => TransformerTestSupport.Tolerance(Tiny);

    public static StateDict Io() => SafeTensors.Read(Fixture("io.safetensors"));

    /// <summary>The discriminator the manifest names: NLayerDiscriminator(6, ndf 8, n_layers 3, batch norm, sigmoid).</summary>
    public static PatchGanConfig DiscriminatorConfig => new(InputNc: 6, Ndf: 8, NLayers: 3, Norm: Pix2PixNorm.Batch, UseSigmoid: true);

    public static UnetGenerator LoadG(string file = "init.safetensors") => UnetGenerator.Load(Fixture(file), prefix: "G.");

    public static NLayerDiscriminator LoadD(string file = "init.safetensors")
    {
        var d = new NLayerDiscriminator(DiscriminatorConfig);
        using var state = Checkpoint.Load(Fixture(file));
        d.LoadStateDict(state, "D.");
        return d;
    }

    /// <summary>Asserts the manifest's tolerance; returns the largest |ours − ref| (printed by the parity tests).</summary>
    public static double AssertClose(Tensor expected, Tensor actual, string what)
    {
        TransformerTestSupport.AssertClose(expected, actual, what, Tolerance());
        using var diff = (expected.to(ScalarType.Float64) - actual.detach().to(ScalarType.Float64)).abs().max();
        return diff.item<double>();
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pix2pix-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
