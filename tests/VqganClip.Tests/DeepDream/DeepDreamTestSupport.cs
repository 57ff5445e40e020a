using VqganClip.Models.IO;
using VqganClip.Models.Onnx;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.DeepDream;

/// <summary>
/// The ResNet18 the DeepDream tests run: the NuGet package's ONNX, downloaded into the NuGet packages folder by the
/// test project's PackageDownload (never committed); loaded once. A missing package fails the tests with the
/// message saying how to restore it.
/// </summary>
internal static class DeepDreamTestSupport
{
    public const string Fixture = "deepdream-resnet18-nuget";

    private static readonly Lazy<OnnxResNet> Shared = new(() => OnnxResNet.Load(ModelPath));

    public static string ModelPath => OnnxResNet.RequireDefaultModel();

    /// <summary>The shared network (not to be disposed by tests).</summary>
    public static OnnxResNet Network => Shared.Value;

    public static StateDict Io() => SafeTensors.Read(TransformerTestSupport.Fixture(Fixture, "io.safetensors"));

    public static (double Abs, double Rel) Tolerance => TransformerTestSupport.Tolerance(Fixture);

    /// <summary>Largest |a-e| and largest |a-e|/(abs+rel·|e|) (1 or less passes).</summary>
    public static (double MaxAbs, double WorstRatio) Errors(Tensor expected, Tensor actual, (double Abs, double Rel) tol)
    {
        using var scope = NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64);
        var a = actual.detach().to(ScalarType.Float64);
        var diff = (a - e).abs();
        return (diff.max().item<double>(), (diff / (tol.Abs + tol.Rel * e.abs())).max().item<double>());
    }

    public static void AssertClose(Tensor expected, Tensor actual, string what) =>
        TransformerTestSupport.AssertClose(expected, actual, what, Tolerance);

    /// <summary>A smooth seeded test picture [1,3,H,W] in [0,1]: gradients and a few blobs.</summary>
    public static Tensor Picture(int width, int height, long seed)
    {
        using var scope = NewDisposeScope();
        var gen = new TorchSharp.torch.Generator((ulong)seed);
        var ys = linspace(0, 1, height).reshape(1, 1, height, 1);
        var xs = linspace(0, 1, width).reshape(1, 1, 1, width);
        var noise = nn.functional.interpolate(rand(new long[] { 1, 3, 4, 4 }, generator: gen), [height, width], mode: InterpolationMode.Bilinear, align_corners: true);
        var picture = cat([xs.expand(1, 1, height, width), ys.expand(1, 1, height, width), (xs * ys).expand(1, 1, height, width)], 1);
        return (0.5 * picture + 0.5 * noise).clamp(0, 1).MoveToOuterDisposeScope();
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "deepdream-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
