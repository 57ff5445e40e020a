using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using VqganClip.Cli.Benchmarking;
using VqganClip.Guidance;
using VqganClip.Models.Runtime;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip bench transformer</c>: sampling throughput of taming transformers in image tokens per second, with and
/// without the key/value cache, at batch 1 and 16, and peak resident memory: for a transformer file (default the shipped
/// <see cref="ShippedModels.TransformerFileName"/>; its row is skipped with a message while none is shipped) and for a
/// GPT of the published ImageNet cIN transformer's size with random weights (48 layers, width 1536, 24 heads, vocab
/// 16384, block 256: 1.4 B parameters, 5.7 GB in float32; a few tokens time it). When the machine has not the memory
/// for it, the GPT is timed with as many layers as fit and the command says so. A benchmark that prints figures, not a test.
/// </summary>
public static class BenchTransformerCommand
{
    /// <summary>The GPT of taming's ImageNet cIN transformer (<c>cin_transformer.yaml</c>'s transformer_config).</summary>
    public static GptConfig CinTransformer => new()
    {
        VocabSize = 16384,
        BlockSize = 256,
        NLayer = 48,
        NHead = 24,
        NEmbd = 1536,
        Source = "the ImageNet cIN transformer's published size, random weights",
    };

    /// <summary>What to time.</summary>
    public sealed record Settings
    {
        /// <summary>The transformer file (null: the shipped one, skipped when absent).</summary>
        public string? Transformer { get; init; }
        public string? TransformerConfig { get; init; }
        /// <summary>Tokens sampled per timed row for the file (null: the model's whole square grid).</summary>
        public int? Tokens { get; init; }
        /// <summary>The random GPT (null: none).</summary>
        public GptConfig? Random { get; init; } = CinTransformer;
        /// <summary>Tokens sampled per timed row for the random GPT.</summary>
        public int RandomTokens { get; init; } = 8;
        public IReadOnlyList<int> Batches { get; init; } = [1, 16];
        public int? Threads { get; init; }
    }

    /// <summary>One timed configuration.</summary>
    public sealed record Row(int Batch, bool Cache, int Tokens, double Seconds, double PeakRssMb)
    {
        public double TokensPerSecond => Batch * Tokens / Seconds;
    }

    /// <summary>The figures of one model, or why it was skipped.</summary>
    public sealed record ModelFigures(string Name, string Description, long Parameters, int ConditioningTokens, IReadOnlyList<Row> Rows, string? Skipped = null, string? Note = null);

    public static Command Create(IAnsiConsole? console = null)
    {
        var cin = CinTransformer;
        var transformer = new Option<string?>("--transformer") { Description = $"Transformer checkpoint (default: the shipped data/{ShippedModels.TransformerFileName}; skipped when absent)" };
        var transformerConfig = new Option<string?>("--transformer-config") { Description = "Its *-project.yaml (default: found beside it, else read from the weights)" };
        var tokens = new Option<int?>("--tokens") { Description = "Tokens sampled per timed row for the transformer file (default: its whole grid)" };
        var batches = new Option<int[]>("--batches") { Description = "Batch sizes to time", DefaultValueFactory = _ => new[] { 1, 16 }, AllowMultipleArgumentsPerToken = true };
        var noRandom = new Option<bool>("--no-random") { Description = "Skip the random-weight GPT" };
        var randomTokens = new Option<int>("--random-tokens") { Description = "Tokens sampled per timed row for the random GPT", DefaultValueFactory = _ => 8 };
        var layers = new Option<int>("--random-layers") { Description = "Random GPT: n_layer", DefaultValueFactory = _ => cin.NLayer };
        var width = new Option<int>("--random-width") { Description = "Random GPT: n_embd", DefaultValueFactory = _ => cin.NEmbd };
        var heads = new Option<int>("--random-heads") { Description = "Random GPT: n_head", DefaultValueFactory = _ => cin.NHead };
        var vocab = new Option<int>("--random-vocab") { Description = "Random GPT: vocab_size", DefaultValueFactory = _ => cin.VocabSize };
        var block = new Option<int>("--random-block") { Description = "Random GPT: block_size", DefaultValueFactory = _ => cin.BlockSize };
        var threads = ThreadsOption.Create();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables" };

        var command = new Command("transformer", "Transformer sampling throughput (tokens/s with and without the cache, batch 1 and 16) and peak memory")
        {
            transformer, transformerConfig, tokens, batches, noRandom, randomTokens, layers, width, heads, vocab, block, threads, json,
        };
        command.SetAction(parse =>
        {
            var output = console ?? AnsiConsole.Console;
            bool custom = parse.GetValue(layers) != cin.NLayer || parse.GetValue(width) != cin.NEmbd || parse.GetValue(heads) != cin.NHead
                          || parse.GetValue(vocab) != cin.VocabSize || parse.GetValue(block) != cin.BlockSize;
            var settings = new Settings
            {
                Transformer = parse.GetValue(transformer),
                TransformerConfig = parse.GetValue(transformerConfig),
                Tokens = parse.GetValue(tokens),
                Random = parse.GetValue(noRandom) ? null : cin with
                {
                    NLayer = parse.GetValue(layers),
                    NEmbd = parse.GetValue(width),
                    NHead = parse.GetValue(heads),
                    VocabSize = parse.GetValue(vocab),
                    BlockSize = parse.GetValue(block),
                    Source = custom ? "random weights" : cin.Source,
                },
                RandomTokens = parse.GetValue(randomTokens),
                Batches = parse.GetValue(batches) ?? [],
                Threads = parse.GetValue(threads),
            };
            bool asJson = parse.GetValue(json);
            Action<string>? log = asJson ? null : line => output.MarkupLineInterpolated($"[grey]{line}[/]");
            var figures = Run(settings, ShippedModels.FindTransformer, log);
            if (asJson) output.Profile.Out.Writer.WriteLine(ToJson(figures).ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            else Write(figures, output);
            return UserErrors.Ok;
        });
        return command;
    }

    /// <summary>Times every model of <paramref name="settings"/>; <paramref name="findShipped"/> finds the default transformer (null: none shipped).</summary>
    public static IReadOnlyList<ModelFigures> Run(Settings settings, Func<(string Checkpoint, string? Config)?> findShipped, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Batches.Count == 0 || settings.Batches.Any(b => b < 1))
            throw new ArgumentException("--batches must be positive batch sizes.");
        if (settings.Tokens is < 1 || settings.RandomTokens < 1)
            throw new ArgumentException("--tokens and --random-tokens must be at least 1.");
        settings.Random?.Validate();
        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(settings.Threads);

        var figures = new List<ModelFigures>();
        string? checkpoint = settings.Transformer, config = settings.TransformerConfig;
        if (checkpoint is null && findShipped() is { } shipped) (checkpoint, config) = (shipped.Checkpoint, config ?? shipped.Config);
        if (checkpoint is null)
            figures.Add(new ModelFigures(ShippedModels.TransformerFileName, "the shipped transformer", 0, 0, [],
                Skipped: $"no shipped {ShippedModels.TransformerFileName} yet (give one with --transformer)"));
        else
            figures.Add(TimeFile(checkpoint, config, settings, log));
        if (settings.Random is { } random) figures.Add(TimeRandom(random, settings, log));
        return figures;
    }

    private static ModelFigures TimeFile(string checkpoint, string? config, Settings settings, Action<string>? log)
    {
        var (path, yaml) = new TransformerSettings { Checkpoint = checkpoint, Config = config }.ResolveFiles();
        log?.Invoke($"loading {Path.GetFileName(path)}");
        using var model = Net2NetTransformer.Load(path, yaml);
        using var conditioning = ConditioningFor(model.CondStage);
        int condLength = (int)conditioning.shape[1];
        int positions = model.Transformer.BlockSize - condLength + 1;
        int side = (int)Math.Sqrt(positions);
        int steps = settings.Tokens ?? side * side;
        if (condLength + steps - 1 > model.Transformer.BlockSize)
            throw new ArgumentException($"--tokens {steps} do not fit the GPT's block of {model.Transformer.BlockSize} after {condLength} conditioning tokens (at most {positions}).");
        // image positions draw image codes only (a caption model's vocabulary also holds its caption tokens)
        var rows = TimeRows(model.Transformer, conditioning, steps, settings.Batches, log, model.ImageTokensOnly(null).TokenLimit);
        return new ModelFigures(Path.GetFileName(path), $"{model.CondStage.Description}; {model.Config.Gpt.Describe()}",
            model.Config.Gpt.ParameterCount, condLength, rows, Note: settings.Tokens is null ? $"the whole {side}x{side} grid per sample" : null);
    }

    /// <summary>One sample's conditioning tokens [1, L]: the SOS token, class 0, or a caption.</summary>
    private static Tensor ConditioningFor(IConditioningStage stage) => stage switch
    {
        ITextConditioning text => text.EncodeText(new[] { "a red circle" }),
        Labelator labels => labels.Encode((IEnumerable<long>)new long[] { 0 }),
        SosProvider sos => sos.ForBatch(1),
        _ => throw new NotSupportedException($"The transformer's conditioning is {stage.Description}: the benchmark times unconditional, class-conditional and caption-conditioned models."),
    };

    private static ModelFigures TimeRandom(GptConfig config, Settings settings, Action<string>? log)
    {
        if (1 + settings.RandomTokens - 1 > config.BlockSize)
            throw new ArgumentException($"--random-tokens {settings.RandomTokens} do not fit the random GPT's block of {config.BlockSize}.");
        // the weights, the cache of the largest batch (keys and values of every layer) and the last logits, with a margin
        int maxBatch = settings.Batches.Max();
        long Needed(GptConfig c) => (long)(1.15 * (c.ParameterCount * 4L
            + 2L * c.NLayer * maxBatch * (settings.RandomTokens + 1) * c.NEmbd * 4L
            + (long)maxBatch * (settings.RandomTokens + 1) * (c.VocabSize + 4L * c.NEmbd) * 4L));
        string? note = null;
        var fits = config;
        if (AvailableMemory.Bytes() is long available && Needed(config) > available)
        {
            int layers = config.NLayer;
            while (layers > 1 && Needed(config with { NLayer = layers }) > available) layers--;
            fits = config with { NLayer = layers };
            note = string.Create(CultureInfo.InvariantCulture,
                $"{config.NLayer} layers need about {Needed(config) / 1e9:F1} GB and {available / 1e9:F1} GB are available: timed {layers} layers; time per token grows about linearly with the layers");
            log?.Invoke(note);
        }
        log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"building a random GPT of {fits.ParameterCount / 1e6:N1} M parameters ({fits.ParameterCount * 4 / 1e9:F2} GB in float32)"));
        using var gen = new Generator(0);
        using var gpt = new Gpt(fits, gen);
        gpt.SetRequiresGrad(false);   // frozen: sampling only
        gpt.eval();
        using var conditioning = zeros(new long[] { 1, 1 }, ScalarType.Int64);
        var rows = TimeRows(gpt, conditioning, settings.RandomTokens, settings.Batches, log, tokenLimit: null);
        return new ModelFigures($"random GPT {fits.NLayer}x{fits.NEmbd}", fits.Describe(), fits.ParameterCount, 1, rows, Note: note);
    }

    /// <summary>Every batch with and without the cache: one untimed token first (pages the weights in), then <paramref name="steps"/> timed tokens.</summary>
    private static List<Row> TimeRows(Gpt gpt, Tensor conditioning, int steps, IReadOnlyList<int> batches, Action<string>? log, int? tokenLimit)
    {
        var rows = new List<Row>();
        foreach (int batch in batches)
        {
            foreach (bool cache in new[] { true, false })
            {
                using var scope = NewDisposeScope();
                var c = conditioning.expand(batch, -1).contiguous();
                ProcessMemory.ResetPeak();
                using (var warm = new Generator(1)) GptSampler.Sample(gpt, c, 1, new SamplingOptions { Generator = warm, TokenLimit = tokenLimit }, useCache: cache);
                using var draws = new Generator(2);
                var clock = Stopwatch.StartNew();
                var tokens = GptSampler.Sample(gpt, c, steps, new SamplingOptions { Generator = draws, TopK = 100, TokenLimit = tokenLimit }, useCache: cache);
                tokens.sum().item<long>();
                clock.Stop();
                var row = new Row(batch, cache, steps, clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentMb);
                rows.Add(row);
                log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"batch {batch}, {(cache ? "cache" : "no cache")}: {steps} tokens in {row.Seconds:F2} s, {row.TokensPerSecond:F1} tokens/s"));
            }
        }
        return rows;
    }

    /// <summary>The figures as one JSON object (snake_case keys; seconds, MB).</summary>
    public static JsonObject ToJson(IReadOnlyList<ModelFigures> figures)
    {
        var models = new JsonArray();
        foreach (var m in figures)
        {
            var rows = new JsonArray();
            foreach (var r in m.Rows)
                rows.Add(new JsonObject
                {
                    ["batch"] = r.Batch,
                    ["cache"] = r.Cache,
                    ["tokens"] = r.Tokens,
                    ["seconds"] = Math.Round(r.Seconds, 4),
                    ["tokens_per_second"] = Math.Round(r.TokensPerSecond, 2),
                    ["peak_rss_mb"] = Math.Round(r.PeakRssMb, 0),
                });
            models.Add(new JsonObject
            {
                ["name"] = m.Name,
                ["description"] = m.Description,
                ["parameters"] = m.Parameters,
                ["conditioning_tokens"] = m.ConditioningTokens,
                ["skipped"] = m.Skipped,
                ["note"] = m.Note,
                ["rows"] = rows,
            });
        }
        return new JsonObject
        {
            ["threads"] = TorchRuntime.Threads,
            ["peak_rss_mb"] = Math.Round(PeakOf(figures), 0),
            ["models"] = models,
        };
    }

    private static void Write(IReadOnlyList<ModelFigures> figures, IAnsiConsole console)
    {
        console.MarkupLineInterpolated($"[bold]bench transformer[/]: {TorchRuntime.Threads} thread(s); tokens/s = image tokens sampled per second over the batch");
        foreach (var m in figures)
        {
            if (m.Skipped is not null)
            {
                console.MarkupLineInterpolated($"[yellow]{m.Name}: skipped[/], {m.Skipped}.");
                continue;
            }
            console.MarkupLineInterpolated($"[bold]{m.Name}[/]: {m.Description}");
            if (m.Note is not null) console.MarkupLineInterpolated($"  {m.Note}");
            var table = new Table().AddColumn(new TableColumn("batch").RightAligned()).AddColumn("cache")
                .AddColumn(new TableColumn("tokens").RightAligned()).AddColumn(new TableColumn("s").RightAligned())
                .AddColumn(new TableColumn("tokens / s").RightAligned()).AddColumn(new TableColumn("peak RSS (MB)").RightAligned());
            foreach (var r in m.Rows)
                table.AddRow(r.Batch.ToString(CultureInfo.InvariantCulture), r.Cache ? "yes" : "no", r.Tokens.ToString(CultureInfo.InvariantCulture),
                    r.Seconds.ToString("F3", CultureInfo.InvariantCulture), r.TokensPerSecond.ToString("F1", CultureInfo.InvariantCulture),
                    r.PeakRssMb < 0 ? "n/a" : r.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture));
            console.Write(table);
        }
        console.WriteLine(FormattableString.Invariant($"Peak RSS of the timed rows: {PeakOf(figures):F0} MB"));
    }

    private static double PeakOf(IReadOnlyList<ModelFigures> figures) =>
        figures.SelectMany(m => m.Rows).Select(r => r.PeakRssMb).DefaultIfEmpty(-1).Max();
}
