using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TorchSharp;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip bench vqgan</c>: VQGAN decode time and peak memory with random weights (no download), for
/// the full vqgan_imagenet_f16_16384 architecture by default: decode under no_grad, and decode + backward to
/// the latent (what every VQGAN+CLIP step does). A benchmark that prints figures, not a test.
/// </summary>
public static class BenchVqganCommand
{
    /// <summary>vqgan_imagenet_f16_16384's model.params (its published YAML).</summary>
    public static VqganConfig ImagenetF16_16384 => new()
    {
        EmbedDim = 256,
        NEmbed = 16384,
        Target = VqganConfig.VQModelTarget,
        Source = "vqgan_imagenet_f16_16384 architecture",
        DdConfig = new VqganDdConfig
        {
            DoubleZ = false,
            ZChannels = 256,
            Resolution = 256,
            InChannels = 3,
            OutCh = 3,
            Ch = 128,
            ChMult = new[] { 1, 1, 2, 2, 4 },
            NumResBlocks = 2,
            AttnResolutions = new[] { 16 },
            Dropout = 0.0,
        },
    };

    public static Command Create(IAnsiConsole? console = null)
    {
        var sizesOption = new Option<int[]>("--sizes")
        {
            Description = "Output image sides to time",
            DefaultValueFactory = _ => new[] { 256, 512 },
            AllowMultipleArgumentsPerToken = true,
        };
        var configOption = new Option<FileInfo?>("--config") { Description = "A taming YAML to bench instead of vqgan_imagenet_f16_16384" };
        var warmupOption = new Option<int>("--warmup") { Description = "Untimed runs first", DefaultValueFactory = _ => 1 };
        var iterationsOption = new Option<int>("--iterations") { Description = "Timed runs", DefaultValueFactory = _ => 2 };
        var threadsOption = ThreadsOption.Create();
        var channelsLastOption = new Option<bool>("--channels-last") { Description = "Store the convolution weights and the latent channels-last (NHWC strides) to measure that memory format" };

        var command = new Command("vqgan", "Benchmark VQGAN decode (no_grad, and with backward to the latent) with random weights")
        {
            sizesOption, configOption, warmupOption, iterationsOption, threadsOption, channelsLastOption,
        };
        command.SetAction(parse =>
        {
            var output = console ?? AnsiConsole.Console;
            var sizes = parse.GetValue(sizesOption) ?? Array.Empty<int>();
            int warmup = parse.GetValue(warmupOption), iterations = parse.GetValue(iterationsOption);
            if (sizes.Length == 0 || sizes.Any(s => s <= 0) || warmup < 0 || iterations <= 0)
                throw new ArgumentException("--sizes and --iterations must be positive, --warmup not negative");
            var config = parse.GetValue(configOption) is { } file ? VqganConfig.FromYaml(file.FullName) : ImagenetF16_16384;
            Run(config, sizes, warmup, iterations, parse.GetValue(threadsOption), parse.GetValue(channelsLastOption), output);
            return UserErrors.Ok;
        });
        return command;
    }

    private static void Run(VqganConfig config, int[] sizes, int warmup, int iterations, int? threads, bool channelsLast, IAnsiConsole output)
    {
        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(threads);
        TorchRuntime.Seed(0);

        long rssBefore = PeakMemory.ReadStatusKb("VmRSS:");
        using var model = new VqganModel(config);
        long rssModel = PeakMemory.ReadStatusKb("VmRSS:");
        long parameterCount = model.parameters().Sum(p => p.numel());
        Func<torch.Tensor, torch.Tensor> layout = t => t;
        if (channelsLast)
        {
            // TorchSharp has no memory_format argument: NHWC strides come from a permuted contiguous copy viewed back as NCHW,
            // which libtorch's kernels then see as channels-last (and keep for their outputs).
            layout = t => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            using var _ = torch.no_grad();
            foreach (var conv in model.modules().OfType<TorchSharp.Modules.Conv2d>())
                conv.weight = new TorchSharp.Modules.Parameter(layout(conv.weight!), requires_grad: false);
        }
        output.WriteLine(
            $"VQGAN {config.Source}: {parameterCount / 1e6:F1} M parameters ({(rssModel - rssBefore) / 1024.0:F0} MiB resident), random weights, " +
            $"{torch.get_num_threads()} threads, {(channelsLast ? "channels-last, " : "")}{warmup} warm-up + {iterations} timed runs per row");

        var table = new Table();
        table.AddColumn("output");
        table.AddColumn("latent");
        table.AddColumn("pass");
        table.AddColumn(new TableColumn("s / image").RightAligned());
        table.AddColumn(new TableColumn("peak RSS (MiB)").RightAligned());

        foreach (var side in sizes)
        {
            var (channels, h, w) = model.LatentShape(side, side);
            var latentShape = new long[] { 1, channels, h, w };
            string image = $"{w * model.DownsamplingFactor}x{h * model.DownsamplingFactor}", latent = $"{channels}x{h}x{w}";

            var forward = Measure(warmup, iterations, () =>
            {
                using var scope = torch.NewDisposeScope();
                using var _ = torch.no_grad();
                var z = layout(torch.randn(latentShape));
                model.Decode(z).sum().item<float>();
            });
            table.AddRow(image, latent, "decode (no_grad)", Seconds(forward.Seconds), Mib(forward.PeakKb));

            var backward = Measure(warmup, iterations, () =>
            {
                using var scope = torch.NewDisposeScope();
                var z = layout(torch.randn(latentShape)).requires_grad_(true);
                model.Decode(z).pow(2).mean().backward();
                z.grad!.sum().item<float>();
            });
            table.AddRow(image, latent, "decode + backward to latent", Seconds(backward.Seconds), Mib(backward.PeakKb));
        }
        output.Write(table);
    }

    private static (double Seconds, long PeakKb) Measure(int warmup, int iterations, Action step)
    {
        PeakMemory.Reset();
        for (int i = 0; i < warmup; i++) step();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) step();
        watch.Stop();
        return (watch.Elapsed.TotalSeconds / iterations, PeakMemory.ReadStatusKb("VmHWM:"));
    }

    private static string Seconds(double s) => s.ToString("F2", CultureInfo.InvariantCulture);

    private static string Mib(long kb) => kb < 0 ? "n/a" : (kb / 1024.0).ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>Linux /proc/self: VmHWM is the peak resident set; writing 5 to clear_refs resets it so each pass reports its own.</summary>
    private static class PeakMemory
    {
        public static void Reset()
        {
            try { File.WriteAllText("/proc/self/clear_refs", "5"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }

        public static long ReadStatusKb(string field)
        {
            try
            {
                var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
                return line is null ? -1 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return -1;
            }
        }
    }
}
