using System.Diagnostics;
using TorchSharp;
using VqganClip.Guidance;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Optimization;
using VqganClip.Models.Clip;
using VqganClip.Models.Cost;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Cli.Benchmarking;

/// <summary>How <see cref="BenchRunner"/> runs: timed steps after warm-up steps, threads (0: libtorch's default).</summary>
public sealed record BenchOptions
{
    public int Steps { get; init; } = 10;
    public int WarmupSteps { get; init; } = 2;
    public int Threads { get; init; }
    /// <summary>Measure the machine's sgemm and 3x3-convolution rates and the cost of one tensor call (<see cref="OpOverhead"/>) after the steps.</summary>
    public bool MeasureCeiling { get; init; } = true;
    /// <summary>After the timed steps, time each phase of a step separately (see <see cref="BenchRunner.ProfileSteps"/>).</summary>
    public int ProfileSteps { get; init; }
}

/// <summary>
/// Runs the classic VQGAN+CLIP loop through the toolkit's <see cref="GuidedRun"/> (latent generator, original cutouts,
/// one text prompt, Adam) and measures it: wall seconds per <c>Step(1)</c>, resident memory after each step, and the
/// step's estimated floating-point work (<see cref="VqganFlops"/>, <see cref="ClipFlops"/>).
/// </summary>
public static class BenchRunner
{
    public static BenchResult Run(BenchSetup setup, BenchOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (options.Steps <= 0) throw new ArgumentException($"--steps must be at least 1; got {options.Steps}.");
        if (options.WarmupSteps < 0) throw new ArgumentException($"--warmup must be 0 or more; got {options.WarmupSteps}.");
        if (options.Threads < 0) throw new ArgumentException($"--threads must be 1 or more; got {options.Threads}.");
        TorchRuntime.EnsureInitialized();
        TorchRuntime.SetThreads(options.Threads);
        using var seed = TorchRuntime.Seed(0);

        log?.Invoke("loading models");
        using var clip = setup.LoadClip();
        using var vqgan = setup.LoadVqgan();
        var generator = new VqganLatentGenerator(vqgan, setup.Size, setup.Size);
        var guidance = new GuidanceOptions
        {
            CutMethod = CutMethod.Original,   // the classic loop: the first notebook's plain crops
            CutCount = setup.CutCount,
            LearningRate = setup.LearningRate,
            Optimizer = "Adam",
            Seed = 0,
            LossReadbackEvery = int.MaxValue,   // the bench keeps no loss history; Step(1) still reads its own losses back
        };
        using var run = GuidedRun.Create(generator, clip, setup.Prompt, guidance);

        int encoded = EncodedCutouts(generator.Width, generator.Height, clip.ImageSize, setup.CutCount);
        var flops = StepFlops(clip.Config, vqgan.Config, generator.TokensY, generator.TokensX, encoded);
        var times = new List<double>();
        var rss = new List<double>();
        var cpuTimes = new List<double>();
        long tensors = 0;
        int total = options.WarmupSteps + options.Steps;
        for (int i = 0; i < total; i++)
        {
            double? cpuStart = ThreadCpuTime.Seconds;
            var watch = Stopwatch.StartNew();
            tensors = OpOverhead.TensorsCreated(() => run.Step(1));
            double seconds = watch.Elapsed.TotalSeconds;
            if (i >= options.WarmupSteps && cpuStart is double c0 && ThreadCpuTime.Seconds is double c1) cpuTimes.Add(c1 - c0);
            rss.Add(ProcessMemory.ResidentMb);
            if (i >= options.WarmupSteps) times.Add(seconds);
            if (i < 3 || (i + 1) % 10 == 0 || i == total - 1)
                log?.Invoke(FormattableString.Invariant($"step {i + 1}/{total}{(i < options.WarmupSteps ? " (warm-up)" : "")}: {seconds:F3} s, RSS {rss[^1]:F0} MB"));
        }
        double peak = ProcessMemory.PeakResidentMb;

        IReadOnlyList<PhaseTiming>? profile = null;
        if (options.ProfileSteps > 0)
        {
            log?.Invoke("profiling phases");
            profile = ProfilePhases(run, clip, vqgan.Config, generator, options.ProfileSteps);
        }

        double? gemm = null, conv = null;
        OpOverhead.Figures? overhead = null;
        if (options.MeasureCeiling)
        {
            log?.Invoke("measuring sgemm and 3x3 convolution rates, and the cost of one call");
            gemm = MachineCeiling.SgemmGflops();
            conv = MachineCeiling.Conv3x3Gflops();
            overhead = OpOverhead.Measure();
        }

        return new BenchResult
        {
            Setup = setup,
            Threads = torch.get_num_threads(),
            WarmupSteps = options.WarmupSteps,
            StepSeconds = times,
            RssMbAfterStep = rss,
            PeakRssMb = peak,
            Flops = flops,
            ImageWidth = generator.Width,
            ImageHeight = generator.Height,
            CutSize = run.Cutouts.CutSize,
            SgemmGflops = gemm,
            Conv3x3Gflops = conv,
            Profile = profile,
            TensorsPerStep = tensors,
            CpuSecondsMedian = cpuTimes.Count > 0 ? BenchResult.Median(cpuTimes) : null,
            Overhead = overhead,
        };
    }

    /// <summary>
    /// How many cutouts CLIP encodes per step: the original's cutouts of a picture no larger than CLIP's input are all
    /// the whole picture (sizes drawn between min(side, cut size) and side), and <see cref="DistinctCutouts"/> encodes
    /// such repeats once; otherwise every cutout (equal random boxes are too rare to count).
    /// </summary>
    public static int EncodedCutouts(int width, int height, int cutSize, int cutCount) =>
        Math.Min(width, height) <= cutSize ? 1 : cutCount;

    /// <summary>Estimated work of one step: nearest-code search, decode (fwd + bwd to z), CLIP image encoder on the cutouts (fwd + bwd to the pixels).</summary>
    public static FlopTally StepFlops(ClipConfig clip, VqganConfig vqgan, int tokensY, int tokensX, int cutCount) =>
        new FlopTally()
            .Add("VQGAN nearest-code search", VqganFlops.NearestCodeSearch(vqgan, (long)tokensY * tokensX))
            .Add(VqganFlops.DecodeParts(vqgan, tokensY, tokensX))
            .Add(ClipFlops.ImageEncoderParts(clip, cutCount));

    /// <summary>
    /// Times the phases of a step separately, on the run's own generator, cutouts and first prompt, with a fresh Adam
    /// (the backward is split at the picture: loss → CLIP → cutouts first, then picture → decoder → latent, the same
    /// arithmetic as one backward). Not the toolkit's loop (<see cref="GuidedRun"/> is what the step times measure);
    /// a look inside it.
    /// </summary>
    private static IReadOnlyList<PhaseTiming> ProfilePhases(GuidedRun run, ClipModel clip, VqganConfig vqgan,
        VqganLatentGenerator generator, int steps)
    {
        string[] names =
        {
            "render: code search + decode", "cutouts", "CLIP forward (normalize + encode)", "loss",
            "backward: loss -> CLIP -> cutouts", "backward: decoder -> latent", "optimizer step + clamp",
        };
        var decode = VqganFlops.Decode(vqgan, generator.TokensY, generator.TokensX);
        var search = VqganFlops.NearestCodeSearch(vqgan, (long)generator.TokensY * generator.TokensX);
        var encoder = ClipFlops.ImageEncoder(clip.Config, run.Cutouts.Count);
        double[] flop = { decode.Forward + search.Forward, 0, encoder.Forward, 0, encoder.Backward, decode.Backward, 0 };
        var samples = names.Select(_ => new List<double>()).ToArray();
        var prompt = run.Prompts[0];
        using var rng = new Generator(1);
        using var optimizer = OptimizerFactory.Create("Adam", generator.Parameters, run.Options.LearningRate);
        for (int s = 0; s < steps + 1; s++)   // the first is a warm-up
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            int phase = 0;
            void Lap()
            {
                if (s > 0) samples[phase].Add(watch.Elapsed.TotalSeconds);
                phase++;
                watch.Restart();
            }
            optimizer.zero_grad();
            var image = generator.Render(); Lap();
            var picture = image.detach().requires_grad_(true);
            var cuts = run.Cutouts.Cut(picture, rng); Lap();
            var embeds = clip.EncodeImage(clip.Normalize(cuts)); Lap();
            var loss = prompt.Loss(embeds); Lap();
            loss.backward(); Lap();
            image.backward(new[] { picture.grad! }); Lap();
            optimizer.step();
            using (no_grad()) generator.PostStep();
            Lap();
        }
        return names.Select((n, i) => new PhaseTiming(n, BenchResult.Median(samples[i]), flop[i])).ToList();
    }
}
