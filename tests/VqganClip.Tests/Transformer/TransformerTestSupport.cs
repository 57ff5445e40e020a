using System.Text.Json;
using System.Text.Json.Nodes;
using VqganClip.Models.Runtime;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.Transformer;

/// <summary>Fixture paths, the manifests' tolerance and YAML, and comparisons shared by the transformer tests.</summary>
internal static class TransformerTestSupport
{
    public const string Cin = "taming-transformer-cin-tiny";
    public const string Window = "taming-transformer-window-tiny";

    static TransformerTestSupport() => TorchRuntime.EnsureInitialized();

    public static void EnsureTorch() => TorchRuntime.EnsureInitialized();

    public static string Fixture(string fixture, string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", fixture, name);

    public static JsonNode Manifest(string fixture) => JsonNode.Parse(File.ReadAllText(Fixture(fixture, "manifest.json")))!;

    public static (double Abs, double Rel) Tolerance(string fixture)
    {
        var tol = Manifest(fixture)["tolerance"]!;
        return (tol["abs"]!.GetValue<double>(), tol["rel"]!.GetValue<double>());
    }

    /// <summary>
    /// The project YAML the fixture's upstream model was built from: model.target Net2NetTransformer with the
    /// manifest's yaml_params (JSON is YAML), after <paramref name="edit"/> changes the params if given.
    /// </summary>
    public static string ProjectYaml(string fixture, Action<JsonObject>? edit = null)
    {
        var parameters = (JsonObject)Manifest(fixture)["yaml_params"]!.DeepClone();
        edit?.Invoke(parameters);
        var root = new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["base_learning_rate"] = 4.5e-6,
                ["target"] = TransformerConfig.Net2NetTarget,
                ["params"] = parameters,
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "transformer-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// A Lightning log folder as taming writes it: &lt;run&gt;/checkpoints/&lt;file&gt; and
    /// &lt;run&gt;/configs/&lt;date&gt;-project.yaml. Returns the checkpoint's path.
    /// </summary>
    public static string LightningLogFolder(string fixture, string file, string? yaml = null)
    {
        var run = TempDir();
        Directory.CreateDirectory(Path.Combine(run, "checkpoints"));
        Directory.CreateDirectory(Path.Combine(run, "configs"));
        var checkpoint = Path.Combine(run, "checkpoints", file);
        File.Copy(Fixture(fixture, file), checkpoint);
        File.WriteAllText(Path.Combine(run, "configs", "2026-12-02T21-52-00-project.yaml"), yaml ?? ProjectYaml(fixture));
        return checkpoint;
    }

    /// <summary>|actual - expected| &lt;= abs + rel*|expected| for finite entries; -inf (filtered logits) must sit at the same places.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, string what, (double Abs, double Rel) tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64).cpu();
        var a = actual.detach().to(ScalarType.Float64).cpu();
        var eInf = e.isinf();
        var aInf = a.isinf();
        Assert.True(eInf.eq(aInf).all().item<bool>(),
            $"{what}: infinite entries differ ({eInf.sum().item<long>()} in the reference, {aInf.sum().item<long>()} here)");
        if (eInf.any().item<bool>())
        {
            Assert.True(e.masked_select(eInf).eq(a.masked_select(aInf)).all().item<bool>(), $"{what}: infinite entries differ in sign");
            e = e.masked_fill(eInf, 0.0);
            a = a.masked_fill(aInf, 0.0);
        }
        var excess = Excess(e, a, tolerance);
        var worst = excess.argmax().item<long>();
        Assert.True(excess.flatten()[worst].item<double>() <= 0,
            $"{what}: element {worst} is {a.flatten()[worst].item<double>()} but the reference is {e.flatten()[worst].item<double>()} " +
            $"(max |diff| {(a - e).abs().max().item<double>():G4}, tolerance abs {tolerance.Abs} + rel {tolerance.Rel})");
    }

    /// <summary>True when every entry of finite tensors meets <see cref="AssertClose"/>'s rule (for tests that accept one of several evaluations).</summary>
    public static bool IsClose(Tensor expected, Tensor actual, (double Abs, double Rel) tolerance)
    {
        using var scope = NewDisposeScope();
        return expected.shape.SequenceEqual(actual.shape)
            && Excess(expected.detach().to(ScalarType.Float64).cpu(), actual.detach().to(ScalarType.Float64).cpu(), tolerance).le(0).all().item<bool>();
    }

    // |actual - expected| - (abs + rel*|expected|): at most 0 everywhere when within the manifest's tolerance
    private static Tensor Excess(Tensor e, Tensor a, (double Abs, double Rel) tolerance) =>
        (a - e).abs() - (tolerance.Abs + tolerance.Rel * e.abs());

    /// <summary>Integer tensors must be exactly equal; names the first differing element.</summary>
    public static void AssertIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.cpu().to(ScalarType.Int64);
        var a = actual.cpu().to(ScalarType.Int64);
        var differ = e.ne(a).flatten();
        if (!differ.any().item<bool>()) return;
        long first = differ.nonzero()[0, 0].item<long>();
        Assert.Fail($"{what}: {differ.sum().item<long>()} of {differ.numel()} entries differ, first at flat index {first}: " +
                    $"{a.flatten()[first].item<long>()} here, {e.flatten()[first].item<long>()} in the reference");
    }
}
