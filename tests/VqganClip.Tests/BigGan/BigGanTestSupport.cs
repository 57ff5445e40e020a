using VqganClip.Models.BigGan;
using VqganClip.Models.IO;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.BigGan;

/// <summary>Fixture paths and loading shared by the BigGAN tests (comparisons: <see cref="TransformerTestSupport"/>).</summary>
internal static class BigGanTestSupport
{
    public const string Deep = "biggan-deep-tiny";
    public const string BigSleep = "bigsleep-biggan-tiny";

    public static string Fixture(string fixture, string name) => TransformerTestSupport.Fixture(fixture, name);

    public static (double Abs, double Rel) Tolerance(string fixture) => TransformerTestSupport.Tolerance(fixture);

    public static StateDict Io(string fixture) => SafeTensors.Read(Fixture(fixture, "io.safetensors"));

    /// <summary>The biggan-deep-tiny model from its pytorch_model.bin and config.json.</summary>
    public static BigGanModel LoadDeep(string file = "pytorch_model.bin") => BigGanModel.Load(Fixture(Deep, file));

    public static void AssertClose(Tensor expected, Tensor actual, string what, (double Abs, double Rel) tolerance) =>
        TransformerTestSupport.AssertClose(expected, actual, what, tolerance);

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "biggan-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
