using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Tests.Clip;

/// <summary>Fixture paths, the manifest tolerance and a tensor comparison that names the worst element.</summary>
internal static class ClipTestSupport
{
    public static string FixtureDir => Path.Combine(AppContext.BaseDirectory, "fixtures", "clip-vit-tiny");

    public static string Fixture(string name) => Path.Combine(FixtureDir, name);

    public static (double Abs, double Rel) Tolerance()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture("manifest.json")));
        var tol = doc.RootElement.GetProperty("tolerance");
        return (tol.GetProperty("abs").GetDouble(), tol.GetProperty("rel").GetDouble());
    }

    public static JsonElement ManifestConfig()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture("manifest.json")));
        return doc.RootElement.GetProperty("config").Clone();
    }

    /// <summary>Asserts |a - b| &lt;= abs + rel * |b| elementwise, reporting the worst element.</summary>
    public static void AssertClose(Tensor actual, Tensor expected, double abs, double rel, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = torch.NewDisposeScope();
        var a = actual.detach().cpu().to(ScalarType.Float64);
        var b = expected.detach().cpu().to(ScalarType.Float64);
        var excess = (a - b).abs() - (b.abs() * rel + abs);
        var worst = excess.flatten().argmax().item<long>();
        var worstExcess = excess.flatten()[worst].item<double>();
        Assert.True(worstExcess <= 0,
            string.Create(CultureInfo.InvariantCulture,
                $"{what}: element {worst} is {a.flatten()[worst].item<double>():G9}, reference {b.flatten()[worst].item<double>():G9} (tolerance {abs} + {rel}*|ref| exceeded by {worstExcess:G3})"));
    }

}

/// <summary>Base for tests that write files: each gets fresh folders, deleted after the test.</summary>
public abstract class ClipTempFolderTest : IDisposable
{
    private readonly List<string> _folders = new();

    protected string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vqganclip-clip-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        _folders.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (var dir in _folders)
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { } // best effort; never mask the test's own result
        }
        GC.SuppressFinalize(this);
    }
}
