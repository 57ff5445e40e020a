using System.Runtime.CompilerServices;
using VqganClip.Models.Runtime;

// libtorch's thread count is process-wide state that some code sets (the judge's evaluator, trainers, benchmarks);
// tests that assert bit-identical reruns must not race with it, so test classes run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace VqganClip.Tests;

internal static class TestSetup
{
    /// <summary>Every test may call TorchSharp directly: prepare it before any test runs. Temporary files go to this
    /// process's scratch folder, which is deleted when it exits.</summary>
    [ModuleInitializer]
    internal static void Init()
    {
        TorchRuntime.EnsureInitialized();
        TestScratch.Claim();
    }

    /// <summary>tests/VqganClip.Tests/fixtures, as copied next to the test assembly.</summary>
    public static string Fixtures(params string[] parts) =>
        Path.Combine(new[] { AppContext.BaseDirectory, "fixtures" }.Concat(parts).ToArray());

    /// <summary>The repository root (the folder holding Toolkit.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Toolkit.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("Toolkit.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
