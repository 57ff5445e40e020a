using VqganClip.Models.IO;
using VqganClip.Models.StyleGan2;
using VqganClip.Tests.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace VqganClip.Tests.StyleGan;

/// <summary>Fixture paths and loading shared by the StyleGAN2 / StyleCLIP tests.</summary>
internal static class StyleGanTestSupport
{
    public const string Tiny = "stylegan2-tiny";

    public static string Fixture(string name) => TransformerTestSupport.Fixture(Tiny, name);

    public static (double Abs, double Rel) Tolerance => TransformerTestSupport.Tolerance(Tiny);

    public static StateDict Io() => SafeTensors.Read(Fixture("io.safetensors"));

    /// <summary>The tiny generator from the published-layout .pt ({g_ema, latent_avg}).</summary>
    public static StyleGan2Model LoadTiny(string file = "stylegan2-tiny.pt") => StyleGan2Model.Load(Fixture(file));

    /// <summary>The manifest's elementwise rule, and the largest absolute difference written to the test output.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, string what, ITestOutputHelper? output = null)
    {
        if (output is not null)
        {
            using var scope = NewDisposeScope();
            var diff = (expected.detach().to(ScalarType.Float64) - actual.detach().to(ScalarType.Float64)).abs().max().item<double>();
            output.WriteLine($"{what}: max |ours - ref| = {diff:E2}");
        }
        TransformerTestSupport.AssertClose(expected, actual, what, Tolerance);
    }

    /// <summary>Same shape and every element equal.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "stylegan-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
