using VqganClip.Clipart;
using VqganClip.Clipart.Judge;

namespace VqganClip.Training.Tests.Clipart;

/// <summary>The trained judge classifier from the repository's data/ folder, loaded once for all tests.</summary>
internal static class ClipartTestData
{
    private static readonly Lazy<ObjectClassifier> LazyClassifier = new(() =>
    {
        var path = Path.Combine(TestSetup.RepoRoot, ObjectClassifier.DefaultRelativePath);
        Assert.True(File.Exists(path), $"{path} is missing: run `vqgan-clip train judge` and commit it.");
        return ObjectClassifier.Load(path);
    });

    public static ObjectClassifier Classifier => LazyClassifier.Value;

    public static SceneJudge Judge => new(Classifier);

    /// <summary>Seeds of the judge tests: never used for training (the trainer uses 1 and 1 + 1,000,003).</summary>
    public const int HeldOutSeed = 777_001;
}
