using System.Diagnostics;
using TorchSharp;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Clipart.Judge;

public sealed record ObjectClassifierTrainingOptions
{
    public int Seed { get; init; } = 1;

    /// <summary>Scenes rendered for training (each gives one or two crops).</summary>
    public int TrainScenes { get; init; } = 4000;

    /// <summary>Scenes for the held-out accuracy, from a different seed.</summary>
    public int HeldOutScenes { get; init; } = 1500;

    public int Epochs { get; init; } = 4;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Standard deviation of the Gaussian noise added to the mask planes during training.</summary>
    public float Noise { get; init; } = 0.05f;

    /// <summary>libtorch threads (CPU), set globally for the run; 0 = leave torch's setting alone.</summary>
    public int Threads { get; init; } = 2;
}

public sealed record ObjectClassifierTrainingReport(
    int TrainCrops,
    int HeldOutCrops,
    int Epochs,
    float FinalLoss,
    double HeldOutAccuracy,
    IReadOnlyDictionary<ObjectKind, double> HeldOutAccuracyByKind,
    int[,] Confusion,
    TimeSpan Elapsed);

/// <summary>
/// Trains <see cref="ObjectClassifierNet"/> on crops of sampled scenes, cut exactly as the judge cuts
/// them (<see cref="ColorAnalysis"/> region of the object's colour, <see cref="ObjectCrop"/>), on the
/// CPU, seeded: the same options give the same weights. Augmentation: horizontal flips (every kind
/// is still itself mirrored) and RGB noise.
/// </summary>
public static class ObjectClassifierTrainer
{
    /// <summary>The seed offset of the held-out scenes (disjoint from any training seed used in practice).</summary>
    public const int HeldOutSeedOffset = 1_000_003;

    public static (ObjectClassifier Classifier, ObjectClassifierTrainingReport Report) Train(
        ObjectClassifierTrainingOptions? options = null, Action<string>? log = null)
    {
        options ??= new ObjectClassifierTrainingOptions();
        if (options.TrainScenes < 1 || options.HeldOutScenes < 1 || options.Epochs < 1 || options.BatchSize < 1 || options.LearningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options, "Scene counts, epochs, batch size and learning rate must be positive.");
        TorchRuntime.EnsureInitialized();
        TorchRuntime.SetThreads(options.Threads);
        var clock = Stopwatch.StartNew();

        var (trainX, trainY) = BuildCrops(options.Seed, options.TrainScenes);
        var (testX, testY) = BuildCrops(options.Seed + HeldOutSeedOffset, options.HeldOutScenes);
        log?.Invoke($"{trainY.Length} training crops, {testY.Length} held-out crops ({clock.Elapsed.TotalSeconds:0.0}s)");

        var generator = TorchRuntime.Seed(options.Seed);
        var net = new ObjectClassifierNet();
        var optimizer = optim.Adam(net.parameters(), options.LearningRate);
        var random = new Random(options.Seed);
        int cropSize = ObjectCrop.Channels * ObjectCrop.Side * ObjectCrop.Side;
        var order = Enumerable.Range(0, trainY.Length).ToArray();
        float lastLoss = float.NaN;

        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            // Last epoch at a tenth of the rate to settle.
            if (epoch == options.Epochs - 1 && options.Epochs > 1)
                foreach (var g in optimizer.ParamGroups) g.LearningRate = options.LearningRate / 10;
            random.Shuffle(order);
            net.train();
            double lossSum = 0;
            int batches = 0;
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                using var scope = torch.NewDisposeScope();
                int count = Math.Min(options.BatchSize, order.Length - start);
                var batch = new float[count * cropSize];
                var labels = new long[count];
                for (int b = 0; b < count; b++)
                {
                    int i = order[start + b];
                    CopyCrop(trainX, i, batch, b, flip: random.Next(2) == 1);
                    labels[b] = trainY[i];
                }
                var x = torch.tensor(batch, [count, ObjectCrop.Channels, ObjectCrop.Side, ObjectCrop.Side]);
                if (options.Noise > 0)
                    x = x + torch.randn(x.shape, generator: generator) * options.Noise;
                var loss = nn.functional.cross_entropy(net.forward(x), torch.tensor(labels));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
            }
            lastLoss = (float)(lossSum / batches);
            var (accuracy, _) = Evaluate(net, testX, testY);
            log?.Invoke($"epoch {epoch + 1}/{options.Epochs}: loss {lastLoss:0.0000}, held-out accuracy {accuracy:P2} ({clock.Elapsed.TotalSeconds:0.0}s)");
        }

        var (heldOut, confusion) = Evaluate(net, testX, testY);
        var byKind = Vocabulary.Kinds.ToDictionary(k => k, k =>
        {
            int total = 0;
            for (int j = 0; j < confusion.GetLength(1); j++) total += confusion[(int)k, j];
            return total == 0 ? double.NaN : confusion[(int)k, (int)k] / (double)total;
        });
        var report = new ObjectClassifierTrainingReport(trainY.Length, testY.Length, options.Epochs, lastLoss, heldOut, byKind, confusion, clock.Elapsed);
        var metadata = new Dictionary<string, string>
        {
            ["held_out_accuracy"] = heldOut.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture),
            ["train_scenes"] = options.TrainScenes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        optimizer.Dispose();
        return (new ObjectClassifier(net, metadata), report);
    }

    /// <summary>
    /// Crops of every object of <paramref name="scenes"/> sampled scenes (seeded), cut as the judge
    /// cuts them; labels are (int)ObjectKind. Objects whose colour region the judge would not find
    /// are left out.
    /// </summary>
    public static (float[][] Crops, int[] Labels) BuildCrops(int seed, int scenes)
    {
        var sampler = new SceneSampler(seed);
        var crops = new List<float[]>();
        var labels = new List<int>();
        for (int s = 0; s < scenes; s++)
        {
            var spec = sampler.Next();
            var analysis = ColorAnalysis.Analyze(SceneRenderer.RenderPlanar(spec), spec.Background, JudgeSettings.Default);
            foreach (var o in spec.Objects)
            {
                var region = analysis.Region(o.Color);
                if (region.IsEmpty) continue;
                crops.Add(ObjectCrop.Extract(analysis, region));
                labels.Add((int)o.Kind);
            }
        }
        return (crops.ToArray(), labels.ToArray());
    }

    /// <summary>Accuracy and confusion matrix [true kind, predicted kind] of the net on crops.</summary>
    public static (double Accuracy, int[,] Confusion) Evaluate(ObjectClassifierNet net, float[][] crops, int[] labels)
    {
        int k = Vocabulary.Kinds.Length;
        var confusion = new int[k, k];
        var classifier = new ObjectClassifier(net);
        int correct = 0;
        for (int start = 0; start < crops.Length; start += 256)
        {
            var slice = crops.Skip(start).Take(256).ToList();
            var probs = classifier.Probabilities(slice);
            for (int i = 0; i < slice.Count; i++)
            {
                int best = 0;
                for (int j = 1; j < k; j++) if (probs[i][j] > probs[i][best]) best = j;
                confusion[labels[start + i], best]++;
                if (best == labels[start + i]) correct++;
            }
        }
        return (crops.Length == 0 ? double.NaN : correct / (double)crops.Length, confusion);
    }

    private static void CopyCrop(float[][] crops, int index, float[] batch, int slot, bool flip)
    {
        var src = crops[index];
        int side = ObjectCrop.Side, size = src.Length;
        if (!flip)
            src.CopyTo(batch, slot * size);
        else
            for (int c = 0; c < ObjectCrop.Channels; c++)
                for (int y = 0; y < side; y++)
                    for (int x = 0; x < side; x++)
                        batch[slot * size + (c * side + y) * side + x] = src[(c * side + y) * side + side - 1 - x];
    }
}
