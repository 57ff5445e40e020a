using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using VqganClip.Guidance;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Optimization;
using VqganClip.Guidance.Prompts;
using VqganClip.Guidance.Running;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip generate "prompt"</c>: runs CLIP-guided generation with a live progress bar; Ctrl+C stops cleanly
/// and saves the picture and a resumable run folder. The PNG carries the prompt, seed and every setting (tEXt chunks,
/// including a <c>command</c> line that reproduces it).
/// </summary>
public static class GenerateCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var prompt = new Argument<string?>("prompt") { Description = "What to draw: text[:weight[:stop]], several separated by '|', story phases by '^'", Arity = ArgumentArity.ZeroOrOne };
        var generator = new Option<string>("--generator") { Description = "vqgan | pixels | fourier | strokes", DefaultValueFactory = _ => "vqgan" };
        var clip = new Option<string?>("--clip") { Description = "CLIP checkpoint (default: the shipped data/clipart-clip.safetensors)" };
        var vqgan = new Option<string?>("--vqgan") { Description = "VQGAN checkpoint (default: the shipped data/clipart-vqgan.safetensors)" };
        var vqganConfig = new Option<string?>("--vqgan-config") { Description = "VQGAN config YAML (when the checkpoint does not carry it)" };
        var size = new Option<string?>("--size") { Description = "Picture size WxH (or N for square); default: the CLIP's input size for small CLIPs (64x64 with the shipped models), else 256x256" };
        var steps = new Option<int>("--steps") { Description = "Total optimisation steps", DefaultValueFactory = _ => 300 };
        var cutn = new Option<int>("--cutn") { Description = "Cutouts per step", DefaultValueFactory = _ => 32 };
        var cutPow = new Option<double>("--cut-pow") { Description = "Cutout size power (>1: smaller crops)", DefaultValueFactory = _ => 1.0 };
        var cutMethod = new Option<string>("--cut-method") { Description = "augmented (generate.py's affine, perspective, colour jitter, noise) | original (the first notebook's plain crops)", DefaultValueFactory = _ => "augmented" };
        var augment = new Option<string?>("--augment") { Description = "With --cut-method augmented: KEY=VALUE,... (flip, affine, degrees, translate, shear, perspective, distortion, color, hue, saturation, noise)" };
        var lr = new Option<double>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => 0.1 };
        var optimizer = new Option<string>("--optimizer") { Description = string.Join(" | ", OptimizerFactory.Names), DefaultValueFactory = _ => "Adam" };
        var schedule = new Option<string>("--schedule") { Description = "constant | cosine:STEPS[:MIN] | warmup:STEPS", DefaultValueFactory = _ => "constant" };
        var seed = new Option<long?>("--seed") { Description = "Random seed (default: a random one, printed and stored in the PNG)" };
        var initImage = new Option<string?>("--init-image") { Description = "Start from this picture (vqgan and pixels generators)" };
        var initWeight = new Option<double>("--init-weight") { Description = "Keep close to the start (the original's init_weight)", DefaultValueFactory = _ => 0.0 };
        var tv = new Option<double>("--tv") { Description = "Total-variation weight (smoothness)", DefaultValueFactory = _ => 0.0 };
        var imagePrompts = new Option<string[]>("--image-prompt") { Description = "Image prompt FILE[:WEIGHT[:STOP]] (repeatable)", AllowMultipleArgumentsPerToken = false };
        var noisePrompts = new Option<string[]>("--noise-prompt") { Description = "Noise prompt SEED[:WEIGHT] (repeatable)" };
        var init = new Option<string>("--init") { Description = "How the vqgan generator's latent starts without --init-image: codes (random codebook entries, the original) | flat (a blank white canvas) | noise", DefaultValueFactory = _ => new GenerateSettings().Init };
        var starts = new Option<int>("--starts") { Description = "Start this many runs (seeds SEED, SEED+1, ...), keep the one CLIP rates best after --trial-steps", DefaultValueFactory = _ => new GenerateSettings().Starts };
        var trialSteps = new Option<int>("--trial-steps") { Description = "Steps each start runs before the best is kept (they count towards --steps)", DefaultValueFactory = _ => new GenerateSettings().TrialSteps };
        var phaseSteps = new Option<int>("--phase-steps") { Description = "With '^' story phases: steps per phase", DefaultValueFactory = _ => 0 };
        var strokes = new Option<int>("--strokes") { Description = "Number of strokes (strokes generator)", DefaultValueFactory = _ => 32 };
        var saveEvery = new Option<int>("--save-every") { Description = "Also write numbered snapshots every N steps", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Output PNG (default: the prompt's words, e.g. a-red-star.png, in the current folder; never overwrites: adds -2, -3, ...)" };
        var runDir = new Option<string?>("--run-dir") { Description = "Where to save the resumable run folder (default: OUT without extension + .run); always saved on Ctrl+C" };
        var resume = new Option<string?>("--resume") { Description = "Continue a saved run folder up to --steps total" };
        var threads = new Option<int?>("--threads") { Description = "Torch intra-op threads" };

        var command = new Command("generate", "Generate a picture from a text prompt by CLIP-guided optimisation")
        {
            prompt, generator, clip, vqgan, vqganConfig, size, steps, cutn, cutPow, cutMethod, augment, lr, optimizer, schedule, seed,
            init, starts, trialSteps, initImage, initWeight, tv, imagePrompts, noisePrompts, phaseSteps, strokes, saveEvery, output, runDir, resume, threads,
        };
        command.SetAction(parse =>
        {
            var s = new GenerateSettings
            {
                Prompt = parse.GetValue(prompt),
                Generator = parse.GetValue(generator)!,
                Clip = parse.GetValue(clip),
                Vqgan = parse.GetValue(vqgan),
                VqganConfig = parse.GetValue(vqganConfig),
                Size = parse.GetValue(size),
                Steps = parse.GetValue(steps),
                CutCount = parse.GetValue(cutn),
                CutPower = parse.GetValue(cutPow),
                CutMethod = parse.GetValue(cutMethod)!,
                Augment = parse.GetValue(augment),
                LearningRate = parse.GetValue(lr),
                Optimizer = parse.GetValue(optimizer)!,
                Schedule = parse.GetValue(schedule)!,
                Seed = parse.GetValue(seed),
                Init = parse.GetValue(init)!,
                Starts = parse.GetValue(starts),
                TrialSteps = parse.GetValue(trialSteps),
                InitImage = parse.GetValue(initImage),
                InitWeight = parse.GetValue(initWeight),
                TotalVariation = parse.GetValue(tv),
                ImagePrompts = parse.GetValue(imagePrompts) ?? Array.Empty<string>(),
                NoisePrompts = parse.GetValue(noisePrompts) ?? Array.Empty<string>(),
                PhaseSteps = parse.GetValue(phaseSteps),
                Strokes = parse.GetValue(strokes),
                SaveEvery = parse.GetValue(saveEvery),
                Output = parse.GetValue(output),
                RunDirectory = parse.GetValue(runDir),
                Resume = parse.GetValue(resume),
                Threads = parse.GetValue(threads),
            };
            return Run(s, console);
        });
        return command;
    }

    /// <summary>Everything the command line says, parsed but not yet validated.</summary>
    public sealed record GenerateSettings
    {
        public string? Prompt { get; init; }
        public string Generator { get; init; } = "vqgan";
        public string? Clip { get; init; }
        public string? Vqgan { get; init; }
        public string? VqganConfig { get; init; }
        /// <summary>WxH or N; null: <see cref="DefaultSize"/> of the CLIP.</summary>
        public string? Size { get; init; }
        public int Steps { get; init; } = 300;
        public int CutCount { get; init; } = 32;
        public double CutPower { get; init; } = 1.0;
        /// <summary>Augmented by default: with a picture no larger than CLIP's input every plain crop is the whole picture,
        /// and optimising one view of it makes adversarial texture rather than objects (seen with the shipped models).</summary>
        public string CutMethod { get; init; } = "augmented";
        /// <summary>KEY=VALUE,... changes to the default augmentations (see <see cref="AugmentOptions.With"/>).</summary>
        public string? Augment { get; init; }
        public double LearningRate { get; init; } = 0.1;
        public string Optimizer { get; init; } = "Adam";
        public string Schedule { get; init; } = "constant";
        public long? Seed { get; init; }
        /// <summary>Runs started (seeds Seed, Seed+1, ...); the one with the lowest loss after <see cref="TrialSteps"/> goes on (<see cref="BestOfStarts"/>).</summary>
        public int Starts { get; init; } = 1;
        public int TrialSteps { get; init; } = 40;
        /// <summary>The vqgan generator's start without an init image: codes | flat | noise (<see cref="LatentInit"/>).</summary>
        public string Init { get; init; } = "codes";
        public string? InitImage { get; init; }
        public double InitWeight { get; init; }
        public double TotalVariation { get; init; }
        public string[] ImagePrompts { get; init; } = Array.Empty<string>();
        public string[] NoisePrompts { get; init; } = Array.Empty<string>();
        public int PhaseSteps { get; init; }
        public int Strokes { get; init; } = 32;
        public int SaveEvery { get; init; }
        /// <summary>Output PNG; null: <see cref="DefaultOutput"/> (a new file named after the prompt).</summary>
        public string? Output { get; init; }
        public string? RunDirectory { get; init; }
        public string? Resume { get; init; }
        public int? Threads { get; init; }
    }

    /// <summary>Parses "WxH" or "N".</summary>
    public static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('x');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
        {
            int w = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return (w, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : w);
        }
        throw new ArgumentException($"--size '{text}' is not WxH with positive whole numbers (e.g. 256x256, or 256 for a square).");
    }

    public static int Run(GenerateSettings s, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        try
        {
            return RunCore(s, console);
        }
        catch (Exception e) when (e is PromptParseException or ArgumentException or FileNotFoundException or DirectoryNotFoundException
                                       or CheckpointFormatException or InvalidDataException or FormatException)
        {
            console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
    }

    private static int RunCore(GenerateSettings s, IAnsiConsole console)
    {
        TorchRuntime.EnsureInitialized();
        if (s.Threads is int t) TorchRuntime.SetThreads(t);
        if (s.Steps < 0) throw new ArgumentException($"--steps must be 0 or more; got {s.Steps}.");
        if (s.SaveEvery < 0) throw new ArgumentException($"--save-every must be 0 or more; got {s.SaveEvery}.");

        var clipPath = ClipPath(s.Clip);

        GuidedRun run;
        ClipModel clipModel;
        VqganModel? vqganModel = null;
        string? vqganPath = null;
        if (s.Resume is not null)
        {
            if (!Directory.Exists(s.Resume)) throw new DirectoryNotFoundException($"--resume '{s.Resume}' is not a folder.");
            var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(s.Resume, GuidedRun.RunFileName))).RootElement.GetProperty("generator");
            clipModel = ClipModel.Load(clipPath);
            if (spec.GetProperty("Name").GetString() == "vqgan")
                (vqganModel, vqganPath) = LoadVqgan(s);
            run = GuidedRun.Resume(s.Resume, clipModel, vqganModel);
            console.MarkupLineInterpolated($"Resuming [bold]{s.Resume}[/] at step {run.StepCount}.");
        }
        else
        {
            // the cheap checks before loading models: a typo in the prompt or size fails in milliseconds
            if (!string.IsNullOrWhiteSpace(s.Prompt)) PromptParser.Parse(s.Prompt);
            if (s.Size is not null) ParseSize(s.Size);
            clipModel = ClipModel.Load(clipPath);
            if (s.Generator.Equals("vqgan", StringComparison.OrdinalIgnoreCase)) (vqganModel, vqganPath) = LoadVqgan(s);
            run = CreateBestRun(s, clipModel, vqganModel, console);
            var options = run.Options;
            console.MarkupLineInterpolated($"Seed [bold]{options.Seed}[/], {run.Generator.Name} {run.Generator.Width}x{run.Generator.Height}, CLIP {clipModel.ImageSize}px, {run.Prompts.Count} prompt(s).");
        }

        using (clipModel)
        using (vqganModel)
        using (run)
        {
            return StepAndSave(run, s, clipPath, vqganPath, console);
        }
    }

    /// <summary>
    /// The picture size when --size is not given: a small CLIP's own input size (the shipped clipart CLIP sees 64x64, so
    /// its pictures are 64x64 and every cutout is most of the picture), else 256x256 as the classic notebooks.
    /// </summary>
    public static (int Width, int Height) DefaultSize(ClipModel clip) =>
        clip.ImageSize <= 128 ? (clip.ImageSize, clip.ImageSize) : (256, 256);

    /// <summary>
    /// A new run from the settings (prompt, generator, size, options) on models the caller loaded and owns
    /// (<paramref name="vqgan"/> only for the vqgan generator). Validates everything a user typed; used by
    /// <c>generate</c> and by <c>eval</c>, so eval's "default settings" are generate's.
    /// </summary>
    public static GuidedRun CreateRun(GenerateSettings s, ClipModel clip, VqganModel? vqgan)
    {
        if (string.IsNullOrWhiteSpace(s.Prompt) && s.ImagePrompts.Length == 0 && s.NoisePrompts.Length == 0)
            throw new ArgumentException("Say what to draw: vqgan-clip generate \"a watercolour of a lighthouse\" (or give --image-prompt / --noise-prompt).");
        var script = string.IsNullOrWhiteSpace(s.Prompt) ? null : PromptParser.Parse(s.Prompt);
        var extras = s.ImagePrompts.Select(PromptParser.ParseImage).Concat(s.NoisePrompts.Select(PromptParser.ParseNoise)).ToList();
        foreach (var img in extras.Where(p => p.Source == PromptSource.Image))
            if (!File.Exists(img.Text)) throw new FileNotFoundException($"--image-prompt file '{img.Text}' does not exist.", img.Text);
        if (s.InitImage is not null && !File.Exists(s.InitImage))
            throw new FileNotFoundException($"--init-image '{s.InitImage}' does not exist.", s.InitImage);
        var (width, height) = s.Size is null ? DefaultSize(clip) : ParseSize(s.Size);
        ParseInit(s.Init);   // a typo is an error with every generator, not only vqgan
        var options = new GuidanceOptions
        {
            CutCount = s.CutCount,
            CutPower = s.CutPower,
            CutMethod = s.CutMethod.ToLowerInvariant() switch
            {
                "original" => CutMethod.Original,
                "augmented" => CutMethod.Augmented,
                _ => throw new ArgumentException($"--cut-method '{s.CutMethod}' is not one of: original, augmented."),
            },
            Augment = new AugmentOptions().With(s.Augment),
            Optimizer = OptimizerFactory.Canonical(s.Optimizer),
            LearningRate = s.LearningRate,
            Schedule = s.Schedule,
            Seed = s.Seed ?? Random.Shared.NextInt64(0, int.MaxValue),
            TotalVariationWeight = s.TotalVariation,
            InitWeight = s.InitWeight,
            PhaseSteps = s.PhaseSteps,
        };
        options.Validate();

        var kind = s.Generator.ToLowerInvariant();
        if (kind == "vqgan" && vqgan is null) throw new ArgumentException("The vqgan generator needs a VQGAN model.");
        var generator = CreateGenerator(kind, width, height, s, vqgan);
        // a prompt string is required for the script; image/noise-only runs get an empty-text-free script of the extras
        script ??= new PromptScript("", new[] { (IReadOnlyList<PromptSpec>)extras.ToList() });
        return new GuidedRun(generator, clip, script, options, script.Phases[0].SequenceEqual(extras) ? null : extras);
    }

    /// <summary>
    /// <see cref="CreateRun"/>, or with <see cref="GenerateSettings.Starts"/> &gt; 1 the best of that many runs after
    /// their trial steps (<see cref="BestOfStarts"/>; seeds Seed, Seed+1, ...). The run returned may have steps done.
    /// </summary>
    public static GuidedRun CreateBestRun(GenerateSettings s, ClipModel clip, VqganModel? vqgan, IAnsiConsole? console = null)
    {
        ValidateStarts(s);
        if (s.Starts == 1) return CreateRun(s, clip, vqgan);
        long seed = s.Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        var (best, candidates) = BestOfStarts.Choose(k => CreateRun(s with { Seed = seed + k }, clip, vqgan), s.Starts, s.TrialSteps);
        console?.MarkupLineInterpolated($"{s.Starts} starts after {s.TrialSteps} steps: {string.Join(", ", candidates.Select(c => FormattableString.Invariant($"seed {c.Seed} {c.Loss:F3}")))}; kept seed {best.Options.Seed}.");
        return best;
    }

    /// <summary>The --init word as a <see cref="LatentInit"/>.</summary>
    public static LatentInit ParseInit(string text) => text.Trim().ToLowerInvariant() switch
    {
        "codes" => LatentInit.RandomCodes,
        "flat" => LatentInit.Flat,
        "noise" => LatentInit.Noise,
        _ => throw new ArgumentException($"--init '{text}' is not one of: codes, flat, noise."),
    };

    /// <summary>Checks --starts and --trial-steps against --steps; throws an <see cref="ArgumentException"/> naming the option.</summary>
    public static void ValidateStarts(GenerateSettings s)
    {
        if (s.Starts < 1) throw new ArgumentException($"--starts must be at least 1; got {s.Starts}.");
        if (s.Starts > 1 && (s.TrialSteps < 1 || s.TrialSteps > s.Steps))
            throw new ArgumentException($"--trial-steps must be between 1 and --steps ({s.Steps}); got {s.TrialSteps}.");
    }

    /// <summary>The CLIP file to load: <paramref name="clip"/> (--clip), else the shipped one; checked to exist.</summary>
    public static string ClipPath(string? clip)
    {
        var path = clip ?? ShippedModels.RequireClip();
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP checkpoint '{path}' does not exist.", path);
        return path;
    }

    /// <summary>The VQGAN of the settings (--vqgan, else the shipped one with its YAML), checked to exist, and its path.</summary>
    public static (VqganModel, string) LoadVqgan(GenerateSettings s)
    {
        string ckpt; string? yaml = s.VqganConfig;
        if (s.Vqgan is not null) ckpt = s.Vqgan;
        else
        {
            var shipped = ShippedModels.RequireVqgan();
            ckpt = shipped.Checkpoint;
            yaml ??= shipped.Config;
        }
        if (!File.Exists(ckpt)) throw new FileNotFoundException($"VQGAN checkpoint '{ckpt}' does not exist.", ckpt);
        if (yaml is not null && !File.Exists(yaml)) throw new FileNotFoundException($"VQGAN config '{yaml}' does not exist.", yaml);
        return (VqganModel.Load(ckpt, yaml), ckpt);
    }

    private static IImageGenerator CreateGenerator(string kind, int width, int height, GenerateSettings s, VqganModel? vqgan)
    {
        TorchSharp.torch.Tensor? init = s.InitImage is null ? null : ImageIO.Load(s.InitImage);
        try
        {
            return kind switch
            {
                "vqgan" => new VqganLatentGenerator(vqgan!, width, height, init is null ? ParseInit(s.Init) : LatentInit.Image, init),
                "pixels" => new PixelGenerator(width, height, initImage: init),
                "fourier" when init is null => new FourierGenerator(width, height),
                "strokes" when init is null => new StrokeGenerator(width, height, s.Strokes),
                "fourier" or "strokes" => throw new ArgumentException($"--init-image works with the vqgan and pixels generators, not {kind}."),
                _ => throw new ArgumentException($"--generator '{s.Generator}' is not one of: {string.Join(", ", GeneratorFactory.Names)}."),
            };
        }
        finally
        {
            init?.Dispose();
        }
    }

    private static int StepAndSave(GuidedRun run, GenerateSettings s, string clipPath, string? vqganPath, IAnsiConsole console)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        var outPath = Path.GetFullPath(s.Output ?? DefaultOutput(run.Script.Source, Directory.GetCurrentDirectory()));
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        var snapshotStem = Path.Combine(Path.GetDirectoryName(outPath)!, Path.GetFileNameWithoutExtension(outPath));
        var written = new List<string>();
        int remaining = Math.Max(0, s.Steps - run.StepCount);
        StepReport? last = null;
        try
        {
            if (remaining > 0)
            {
                console.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"step {run.StepCount}/{s.Steps}", maxValue: remaining);
                        last = run.Step(remaining, ct: cts.Token, every: 1, onUpdate: r =>
                        {
                            task.Value = r.Completed;
                            task.Description = string.Create(CultureInfo.InvariantCulture,
                                $"step {r.TotalSteps}/{s.Steps}  loss {r.Total:F4}  {r.StepsPerSecond:F2} it/s");
                            if (s.SaveEvery > 0 && r.Loss is { } loss && r.Image is { } img && loss.Step % s.SaveEvery == 0)
                            {
                                var path = string.Create(CultureInfo.InvariantCulture, $"{snapshotStem}-{loss.Step:D4}.png");
                                img.Save(path, TextChunks(run, s, clipPath, vqganPath, loss.Step));
                                written.Add(path);
                            }
                        });
                    });
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        bool cancelled = last?.Cancelled == true || cts.IsCancellationRequested;
        run.CurrentImage().Save(outPath, TextChunks(run, s, clipPath, vqganPath, run.StepCount));
        string? runDir = null;
        if (cancelled || s.RunDirectory is not null)
            runDir = run.Save(Path.GetFullPath(s.RunDirectory ?? snapshotStem + ".run"));

        if (cancelled) console.MarkupLineInterpolated($"[yellow]Stopped[/] at step {run.StepCount} of {s.Steps}.");
        if (run.History.Count > 0)
            console.MarkupLineInterpolated($"Loss {run.History[0].Total:F4} at step 0 -> {run.History[^1].Total:F4} at step {run.History[^1].Step}.");
        if (written.Count > 0) console.MarkupLineInterpolated($"Snapshots: {written.Count} files {snapshotStem}-NNNN.png");
        console.MarkupLineInterpolated($"Image: [bold]{outPath}[/]");
        if (runDir is not null)
            console.MarkupLineInterpolated($"Resumable run: [bold]{runDir}[/]  (continue with: vqgan-clip generate --resume \"{runDir}\" --steps {s.Steps})");
        return cancelled ? 130 : 0;
    }

    /// <summary>The prompt's words, lower-case, joined by '-' (at most 60 characters; "output" when there are none).</summary>
    public static string PromptSlug(string prompt)
    {
        var words = new StringBuilder();
        foreach (char c in prompt.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c)) words.Append(c);
            else if (words.Length > 0 && words[^1] != '-') words.Append('-');
            if (words.Length >= 60) break;
        }
        var stem = words.ToString().Trim('-');
        return stem.Length == 0 ? "output" : stem;
    }

    /// <summary>
    /// The PNG name when --out is not given: the prompt's words joined by '-' (at most 60 characters; "output" when
    /// there are none) in <paramref name="folder"/>, with -2, -3, ... added so an earlier picture is never overwritten.
    /// </summary>
    public static string DefaultOutput(string prompt, string folder)
    {
        var stem = PromptSlug(prompt);
        var path = Path.Combine(folder, stem + ".png");
        for (int n = 2; File.Exists(path) || Directory.Exists(Path.ChangeExtension(path, ".run")); n++)
            path = Path.Combine(folder, FormattableString.Invariant($"{stem}-{n}.png"));
        return path;
    }

    /// <summary>PNG tEXt chunks: the prompt, seed and every setting, and a command line that reproduces the picture.</summary>
    public static Dictionary<string, string> TextChunks(GuidedRun run, GenerateSettings s, string clipPath, string? vqganPath, int step)
    {
        var o = run.Options;
        var image = run.ExtraPrompts.Where(p => p.Source == PromptSource.Image).Select(p => p.ToString()).ToList();
        var noise = run.ExtraPrompts.Where(p => p.Source == PromptSource.Noise).Select(p => p.ToString()).ToList();
        var chunks = new Dictionary<string, string>
        {
            ["Software"] = "vqgan-clip generate",
            ["prompt"] = run.Script.Source,
            ["seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["generator"] = run.Generator.Name,
            ["generator_settings"] = JsonSerializer.Serialize(run.Generator.Settings),
            ["size"] = $"{run.Generator.Width}x{run.Generator.Height}",
            ["clip"] = Path.GetFileName(clipPath),
            ["options"] = JsonSerializer.Serialize(o, new JsonSerializerOptions(GuidedRun.Json) { WriteIndented = false }),
        };
        if (vqganPath is not null) chunks["vqgan"] = Path.GetFileName(vqganPath);
        if (image.Count > 0) chunks["image_prompts"] = string.Join(" | ", image);
        if (noise.Count > 0) chunks["noise_prompts"] = string.Join(" | ", noise);
        if (s.InitImage is not null) chunks["init_image"] = s.InitImage;

        var cmd = new StringBuilder("vqgan-clip generate ");
        cmd.Append(Quote(run.Script.Source));
        cmd.Append(CultureInfo.InvariantCulture, $" --generator {run.Generator.Name} --size {run.Generator.Width}x{run.Generator.Height} --steps {step}");
        cmd.Append(CultureInfo.InvariantCulture, $" --cutn {o.CutCount} --cut-pow {o.CutPower:R} --cut-method {o.CutMethod.ToString().ToLowerInvariant()}");
        cmd.Append(CultureInfo.InvariantCulture, $" --lr {o.LearningRate:R} --optimizer {o.Optimizer} --schedule {o.Schedule} --seed {o.Seed}");
        if (!string.IsNullOrWhiteSpace(s.Augment)) cmd.Append(" --augment ").Append(Quote(s.Augment));
        if (o.InitWeight > 0) cmd.Append(CultureInfo.InvariantCulture, $" --init-weight {o.InitWeight:R}");
        if (o.TotalVariationWeight > 0) cmd.Append(CultureInfo.InvariantCulture, $" --tv {o.TotalVariationWeight:R}");
        if (o.PhaseSteps > 0) cmd.Append(CultureInfo.InvariantCulture, $" --phase-steps {o.PhaseSteps}");
        if (run.Generator.Name == "strokes") cmd.Append(" --strokes ").Append(run.Generator.Settings["strokes"]);
        if (s.InitImage is null && run.Generator is VqganLatentGenerator { Init: not LatentInit.RandomCodes and not LatentInit.Image } latent)
            cmd.Append(" --init ").Append(latent.Init == LatentInit.Flat ? "flat" : "noise");
        foreach (var p in image) cmd.Append(" --image-prompt ").Append(Quote(p));
        foreach (var p in noise) cmd.Append(" --noise-prompt ").Append(p);
        if (s.InitImage is not null) cmd.Append(" --init-image ").Append(Quote(s.InitImage));
        chunks["command"] = cmd.ToString();
        return chunks;
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
