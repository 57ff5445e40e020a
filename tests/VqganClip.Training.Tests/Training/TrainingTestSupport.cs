using VqganClip.Clipart;
using VqganClip.Training;
using VqganClip.Training.BigGan;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;

namespace VqganClip.Training.Tests.Training;

/// <summary>Tiny models and a temporary folder for the trainer tests (kept small: CPU is shared).</summary>
internal static class TrainingTestSupport
{
    /// <summary>A two-object scene (a small yellow star above a big blue house on grass) for the hard-negative tests.</summary>
    public static readonly SceneSpec StarAboveHouse = SceneSpec.Pair(
        (ObjectKind.Star, ClipartColor.Yellow, ObjectSize.Small), SpatialRelation.Above, (ObjectKind.House, ClipartColor.Blue, ObjectSize.Big), SceneBackground.Grass);

    /// <summary>A two-level f2 VQModel with 32 codes of 8 dims, trained on 16x16 crops.</summary>
    public static VqganTrainingOptions TinyVqgan(long steps = 6) => new()
    {
        Steps = steps,
        BatchSize = 2,
        LearningRate = 2e-3,
        WarmupSteps = 1,
        Seed = 7,
        CropSize = 16,
        FullImageFraction = 0,
        RestartEvery = 2,
        RestartUntil = 1,
        KMeansIterations = 3,
        Model = new VqganConfig
        {
            Target = VqganConfig.VQModelTarget,
            EmbedDim = 8,
            NEmbed = 32,
            DdConfig = new VqganDdConfig
            {
                DoubleZ = false, ZChannels = 32, Resolution = 64, InChannels = 3, OutCh = 3, Ch = 32,
                ChMult = [1, 1], NumResBlocks = 1, AttnResolutions = [32], Dropout = 0,
            },
        },
    };

    /// <summary>A tiny VQGAN after <paramref name="steps"/> training steps, exported to <paramref name="path"/> (+ its YAML).</summary>
    public static void ExportTinyVqgan(string path, int steps = 1)
    {
        using var vqgan = new VqganTrainer(TinyVqgan(steps: steps), renderThreads: 1);
        for (int i = 0; i < steps; i++) vqgan.TrainStep();
        vqgan.Export(path);
    }

    /// <summary>A one-layer ViT/text CLIP with a 32-token context (vocabulary kept at CLIP's 49408: the real tokenizer's ids).</summary>
    public static ClipTrainingOptions TinyClip(long steps = 6) => new()
    {
        Steps = steps,
        BatchSize = 8,
        LearningRate = 2e-3,
        WarmupSteps = 1,
        Seed = 7,
        Model = new ClipConfig
        {
            EmbedDim = 32, ImageResolution = 64, VisionLayers = 1, VisionWidth = 64, VisionPatchSize = 16, VisionHeads = 1,
            ContextLength = 32, VocabSize = 49408, TransformerWidth = 64, TransformerHeads = 1, TransformerLayers = 1,
        },
    };

    /// <summary>A BigGAN-deep of channel_width 4 and z_dim 8 against a D of ch 4, batch 4, the average from step 1.</summary>
    public static BigGanTrainingOptions TinyBigGan(long steps = 3) => new()
    {
        Steps = steps,
        BatchSize = 4,
        Seed = 5,
        GChannels = 4,
        ZDim = 8,
        DChannels = 4,
        EmaStart = 1,
        EmaDecay = 0.9,
        StandingBatches = 1,
        StandingBatchSize = 4,
    };

    /// <summary><see cref="TinyBigGan"/> with the shipped recipe's side of the game: the stylegan2 D, logistic loss, lazy R1.</summary>
    public static BigGanTrainingOptions TinyStyleGan2D(long steps = 3) => TinyBigGan(steps) with
    {
        Discriminator = BigGanDiscriminatorKind.StyleGan2, Loss = BigGanLoss.Logistic, R1Gamma = 0.1, DRegEvery = 2,
    };

    /// <summary>
    /// Checks a G-loss term that starts at step 1 of a 3-step run: <paramref name="termOptions"/> is
    /// <paramref name="plainOptions"/> with the term at <paramref name="weight"/>. Its first step is the plain run's, bit
    /// for bit, with <paramref name="metric"/> logged as NaN; its second has the same D step and G's loss the plain one
    /// plus weight × the logged term, which lies in [<paramref name="low"/>, <paramref name="high"/>].
    /// </summary>
    public static void AssertTermWaitsForItsStartThenAdds(BigGanTrainingOptions plainOptions, BigGanTrainingOptions termOptions,
        string metric, double weight, double low, double high)
    {
        Assert.Equal(termOptions, BigGanTrainingOptions.FromJson(termOptions.ToJson()));
        using var plain = new BigGanTrainer(plainOptions, renderThreads: 1);
        using var withTerm = new BigGanTrainer(termOptions, renderThreads: 1);
        var mp = plain.TrainStep();
        var mt = withTerm.TrainStep();
        Assert.True(double.IsNaN(mt[metric]));
        foreach (var key in mp.Keys) Assert.Equal(mp[key], mt[key]);
        mp = plain.TrainStep();
        mt = withTerm.TrainStep();
        foreach (var key in new[] { "d_loss_real", "d_loss_fake", "d_real", "d_fake" }) Assert.Equal(mp[key], mt[key]);
        Assert.InRange(mt[metric], low, high);
        Assert.Equal(mp["g_loss"] + weight * mt[metric], mt["g_loss"], 3);
    }

    /// <summary>A detached copy of every tensor of <paramref name="module"/>'s state dict, to compare after steps.</summary>
    public static Dictionary<string, TorchSharp.torch.Tensor> StateSnapshot(TorchSharp.torch.nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    /// <summary>
    /// Runs <paramref name="body"/> with one torch thread: exact-continuation checks need the same reduction order
    /// in every run, and one thread also keeps these tests light on a shared machine.
    /// </summary>
    public static void SingleThreaded(Action body)
    {
        int before = TorchRuntime.Threads;
        TorchRuntime.SetThreads(1);
        try { body(); }
        finally { TorchRuntime.SetThreads(before); }
    }

    /// <summary>Same shape and bit-identical values.</summary>
    public static bool Same(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>
    /// How two tensors that should be bit-identical differ, for a failure message: shapes, how many elements differ, the
    /// largest difference, and NaNs on either side (NaN never equals itself, so a diverged run reads as "differs").
    /// </summary>
    private static string Difference(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return $"shapes [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}]";
        using var scope = TorchSharp.torch.NewDisposeScope();
        long differing = a.ne(b).sum().item<long>();
        double largest = (a.to(TorchSharp.torch.float64) - b.to(TorchSharp.torch.float64)).abs().nan_to_num(0).max().item<double>();
        return $"{differing} of {a.numel()} elements differ, largest by {largest:G3}; NaN: {a.isnan().sum().item<long>()} and {b.isnan().sum().item<long>()}";
    }

    /// <summary>Asserts <see cref="Same"/>; only a failure pays for <see cref="Difference"/>, which goes in its message after <paramref name="what"/>.</summary>
    public static void AssertSame(TorchSharp.torch.Tensor actual, TorchSharp.torch.Tensor expected, string what)
    {
        if (!Same(actual, expected)) Xunit.Assert.Fail($"{what}: {Difference(actual, expected)}");
    }

    /// <summary>The first <paramref name="count"/> held-out scenes rendered [N,3,64,64] and their captions tokenised for <paramref name="clip"/>.</summary>
    public static (TorchSharp.torch.Tensor Images, TorchSharp.torch.Tensor Tokens) HeldOutBatch(VqganClip.Models.Clip.ClipModel clip, int count)
    {
        var (specs, captions) = VqganClip.Training.ClipartBatches.HeldOut(count);
        return (VqganClip.Training.ClipartBatches.Render(specs, 1),
            VqganClip.Models.Clip.ClipTokenizer.Default.Tokenize(captions, clip.ContextLength, truncate: true));
    }

    public static string TempDirectory() => Directory.CreateTempSubdirectory("training-tests-").FullName;

    /// <summary>Runs <paramref name="body"/> with a fresh temporary folder and deletes it afterwards.</summary>
    public static void InTempDirectory(Action<string> body)
    {
        var dir = TempDirectory();
        try { body(dir); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// Trains <paramref name="options"/> straight to <paramref name="total"/> steps, saving a checkpoint at
    /// <paramref name="saveAt"/>; resumes that checkpoint in a second trainer to <paramref name="total"/> and asserts
    /// that every tensor of the state dict (weights and buffers) is bit-identical. Returns the resumed trainer's options.
    /// </summary>
    public static ClipTrainingOptions AssertClipRunResumesExactly(ClipTrainingOptions options, int saveAt, int total)
    {
        ClipTrainingOptions resumedOptions = options;
        InTempDirectory(dir =>
        {
            using var straight = new ClipTrainer(options, renderThreads: 1);
            while (straight.Step < saveAt) straight.TrainStep();
            straight.SaveCheckpoint(dir);
            while (straight.Step < total) straight.TrainStep();

            using var resumed = ClipTrainer.Resume(dir, renderThreads: 1);
            Xunit.Assert.Equal(saveAt, resumed.Step);
            Xunit.Assert.True(resumed.Options.Model.SameArchitecture(options.Model));
            resumedOptions = resumed.Options;
            while (resumed.Step < total) resumed.TrainStep();
            var expected = straight.Model.state_dict();
            foreach (var (name, tensor) in resumed.Model.state_dict())
                AssertSame(tensor, expected[name], $"'{name}' differs after resuming");
        });
        return resumedOptions;
    }
}
