using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Training.Tests.Clipart;

public class ObjectClassifierTests
{
    [Fact]
    public void Shipped_classifier_is_small_and_names_its_kinds_and_accuracy()
    {
        var path = Path.Combine(TestSetup.RepoRoot, ObjectClassifier.DefaultRelativePath);
        Assert.InRange(new FileInfo(path).Length, 10_000, 1_000_000);
        var classifier = ClipartTestData.Classifier;
        Assert.Equal(string.Join(",", Vocabulary.Kinds.Select(k => k.Word())), classifier.Metadata[ObjectClassifier.KindsKey]);
        Assert.True(double.Parse(classifier.Metadata["held_out_accuracy"], System.Globalization.CultureInfo.InvariantCulture) >= 0.97);
    }

    [Fact]
    public void Classifies_held_out_crops_accurately()
    {
        var (crops, labels) = ObjectClassifierTrainer.BuildCrops(ClipartTestData.HeldOutSeed + 2, 300);
        var (accuracy, confusion) = ObjectClassifierTrainer.Evaluate(ClipartTestData.Classifier.Net, crops, labels);
        Assert.True(accuracy >= 0.97, $"held-out crop accuracy {accuracy:P1}");
        int total = 0;
        foreach (var c in confusion) total += c;
        Assert.Equal(labels.Length, total);
    }

    [Fact]
    public void Save_and_load_round_trip_gives_the_same_probabilities()
    {
        var path = Path.Combine(Path.GetTempPath(), $"judge-{Guid.NewGuid():N}.safetensors");
        try
        {
            ClipartTestData.Classifier.Save(path, new Dictionary<string, string> { ["note"] = "test" });
            using var reloaded = ObjectClassifier.Load(path);
            Assert.Equal("test", reloaded.Metadata["note"]);
            var (crops, _) = ObjectClassifierTrainer.BuildCrops(3, 5);
            var a = ClipartTestData.Classifier.Probabilities(crops);
            var b = reloaded.Probabilities(crops);
            for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
            Assert.All(a, p => Assert.Equal(1f, p.Sum(), 4));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Load_names_a_missing_file_or_a_wrong_tensor()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => ObjectClassifier.Load("/nonexistent/judge.safetensors"));
        Assert.Contains("train judge", missing.Message);

        var path = Path.Combine(Path.GetTempPath(), $"judge-bad-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var net = new ObjectClassifierNet())
            {
                var tensors = net.state_dict().Select(kv => (kv.Key, kv.Key == "head.weight" ? zeros(3, 3) : kv.Value.detach())).ToList();
                SafeTensors.Write(path, tensors);
            }
            var e = Assert.Throws<CheckpointFormatException>(() => ObjectClassifier.Load(path));
            Assert.Contains("head.weight", e.Message);
            Assert.Contains("[3,3]", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Training_is_reproducible_for_a_seed()
    {
        var options = new ObjectClassifierTrainingOptions { Seed = 11, TrainScenes = 40, HeldOutScenes = 10, Epochs = 2, BatchSize = 16, Threads = 0 }; // 0: no global thread change under other tests
        var (a, reportA) = ObjectClassifierTrainer.Train(options);
        var (b, reportB) = ObjectClassifierTrainer.Train(options);
        using (a)
        using (b)
        {
            var wa = a.Net.state_dict();
            var wb = b.Net.state_dict();
            Assert.All(wa.Keys, k => Assert.True(wa[k].eq(wb[k]).all().item<bool>(), $"{k} differs between identical runs"));
            Assert.Equal(reportA.FinalLoss, reportB.FinalLoss);
            Assert.Equal(reportA.TrainCrops, reportB.TrainCrops);
        }
    }
}
