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
using VqganClip.Models.AudioClip;
using VqganClip.Models.BigGan;
using VqganClip.Models.StyleGan2;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip generate "prompt"</c>: runs CLIP-guided generation with a live progress bar; Ctrl+C stops cleanly
/// and saves the picture and a resumable run folder. The PNG carries the prompt, seed and every setting (tEXt chunks,
/// including a <c>command</c> line that reproduces it). <c>--generator transformer</c> samples pictures with a taming
/// transformer instead, keeps the one CLIP rates best and optionally refines it (<see cref="TransformerPipeline"/>).
/// </summary>
public static class GenerateCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var prompt = new Argument<string?>("prompt") { Description = "What to draw: text[:weight[:stop]], several separated by '|', story phases by '^'", Arity = ArgumentArity.ZeroOrOne };
        var recipe = new RecipeOptions();
        var clip = new Option<string?>("--clip") { Description = "CLIP checkpoint (default: the shipped data/clipart-clip.safetensors)" };
        var vqgan = new Option<string?>("--vqgan") { Description = "VQGAN checkpoint (default: the shipped data/clipart-vqgan.safetensors)" };
        var vqganConfig = new Option<string?>("--vqgan-config") { Description = "VQGAN config YAML (when the checkpoint does not carry it)" };
        var biggan = BigGanOption();
        var stylegan = StyleGanOption();
        var seed = new Option<long?>("--seed") { Description = "Random seed (default: a random one, printed and stored in the PNG)" };
        var imagePrompts = new Option<string[]>("--image-prompt") { Description = "Image prompt FILE[:WEIGHT[:STOP]] (repeatable)", AllowMultipleArgumentsPerToken = false };
        var noisePrompts = new Option<string[]>("--noise-prompt") { Description = "Noise prompt SEED[:WEIGHT] (repeatable)" };
        var audioPrompts = new Option<string[]>("--audio-prompt") { Description = "Audio prompt FILE.wav[:WEIGHT[:STOP]] (repeatable; needs --audioclip)", AllowMultipleArgumentsPerToken = false };
        var audioClip = new Option<string?>("--audioclip") { Description = "AudioCLIP checkpoint for --audio-prompt (AudioCLIP-Partial-Training.pt / -Full-Training.pt or safetensors); its RN50 towers are the CLIP unless --clip names one with the same space; a head without towers (the shipped data/clipart-audioclip.safetensors) uses the CLIP it names, the shipped clipart CLIP" };
        var saveEvery = new Option<int>("--save-every") { Description = "Also write numbered snapshots every N steps", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Output PNG (default: the prompt's words, e.g. a-red-star.png, in the current folder; never overwrites: adds -2, -3, ...)" };
        var runDir = new Option<string?>("--run-dir") { Description = "Where to save the resumable run folder (default: OUT without extension + .run); always saved on Ctrl+C" };
        var resume = new Option<string?>("--resume") { Description = "Continue a saved run folder up to --steps total" };
        var initPix2Pix = new Option<string?>("--init-pix2pix") { Description = "Start from an outline drawing coloured by pix2pix: OUTLINE is coloured (written as OUTLINE-pix2pix.png) and used as --init-image (implies the vqgan generator unless --generator says pixels)" };
        var pix2pixModel = new Option<string?>("--pix2pix-model") { Description = $"The pix2pix generator of --init-pix2pix (default: the shipped data/{ShippedModels.Pix2PixFileName})" };
        var threads = ThreadsOption.Create();

        var command = new Command("generate", "Generate a picture from a text prompt: on the shipped models the transformer samples pictures and CLIP keeps the best; with other models or loop options, CLIP-guided optimisation (VQGAN+CLIP and the other X+CLIP generators)") { prompt, clip, vqgan, vqganConfig, biggan, stylegan, seed };
        var clipOptions = ClipOptions.AddTo(command);
        recipe.AddTo(command);
        foreach (var o in new Option[] { imagePrompts, noisePrompts, audioPrompts, audioClip, saveEvery, output, runDir, resume, initPix2Pix, pix2pixModel, threads }) command.Options.Add(o);
        command.SetAction(parse => Run(new GenerateSettings
        {
            Recipe = recipe.Read(parse, userModels: parse.GetValue(clip) is not null || parse.GetValue(vqgan) is not null || parse.GetValue(resume) is not null
                    || parse.GetValue(audioClip) is not null,
                implied: parse.GetValue(biggan) is not null ? BigSleepGenerator.GeneratorName
                    : parse.GetValue(stylegan) is not null ? StyleGanGenerator.GeneratorName : null) with
            {
                Prompt = parse.GetValue(prompt),
                Seed = parse.GetValue(seed),
                ImagePrompts = parse.GetValue(imagePrompts) ?? [],
                NoisePrompts = parse.GetValue(noisePrompts) ?? [],
                AudioPrompts = parse.GetValue(audioPrompts) ?? [],
            },
            AudioClip = parse.GetValue(audioClip),
            Clip = parse.GetValue(clip),
            ClipLoad = clipOptions.Read(parse),
            Vqgan = parse.GetValue(vqgan),
            VqganConfig = parse.GetValue(vqganConfig),
            BigGan = parse.GetValue(biggan),
            StyleGan = parse.GetValue(stylegan),
            SaveEvery = parse.GetValue(saveEvery),
            Output = parse.GetValue(output),
            RunDirectory = parse.GetValue(runDir),
            Resume = parse.GetValue(resume),
            Threads = parse.GetValue(threads),
            InitPix2Pix = parse.GetValue(initPix2Pix),
            Pix2PixModel = parse.GetValue(pix2pixModel),
        }, console));
        return command;
    }

    /// <summary>Everything the command line says: the run's recipe, and where models and outputs are.</summary>
    public sealed record GenerateSettings
    {
        public RunRecipe Recipe { get; init; } = RunRecipe.Default;
        public string? Clip { get; init; }
        /// <summary>The AudioCLIP file for audio prompts (--audioclip); also the CLIP when <see cref="Clip"/> is null.</summary>
        public string? AudioClip { get; init; }
        /// <summary>What the user said about the CLIP file (--clip-config, --activation).</summary>
        public ClipLoadOptions? ClipLoad { get; init; }
        public string? Vqgan { get; init; }
        public string? VqganConfig { get; init; }
        /// <summary>The biggan generator's BigGAN: a file or a folder (null: the shipped one).</summary>
        public string? BigGan { get; init; }
        /// <summary>The stylegan generator's StyleGAN2 (rosinality .pt or safetensors); default: the shipped data/clipart-stylegan.safetensors.</summary>
        public string? StyleGan { get; init; }
        public int SaveEvery { get; init; }
        /// <summary>Output PNG; null: <see cref="DefaultOutput"/> (a new file named after the prompt).</summary>
        public string? Output { get; init; }
        public string? RunDirectory { get; init; }
        public string? Resume { get; init; }
        public int? Threads { get; init; }
        /// <summary>An outline drawing to colour with pix2pix and start from (<see cref="ColourInitOutline"/>).</summary>
        public string? InitPix2Pix { get; init; }
        /// <summary>The pix2pix generator for <see cref="InitPix2Pix"/> (null: the shipped one).</summary>
        public string? Pix2PixModel { get; init; }
    }

    /// <summary>
    /// <c>--init-pix2pix OUTLINE</c>: colours the outline with the pix2pix generator (evaluation mode), writes the
    /// colouring beside --out (else in the current folder) as OUTLINE-pix2pix.png (never overwriting) and returns the settings
    /// with it as the start picture, so the run (and the command stored in its PNG) refers to a real file.
    /// </summary>
    public static GenerateSettings ColourInitOutline(GenerateSettings s, IAnsiConsole console)
    {
        if (s.InitPix2Pix is null) return s;
        if (s.Recipe.InitImage is not null) throw new ArgumentException("--init-pix2pix and --init-image both name a start picture; give one.");
        if (s.Resume is not null) throw new ArgumentException("--init-pix2pix starts a new run; a resumed run keeps its own start.");
        if (!File.Exists(s.InitPix2Pix)) throw new FileNotFoundException($"Outline image not found: {s.InitPix2Pix}", s.InitPix2Pix);
        var modelPath = s.Pix2PixModel ?? ShippedModels.RequirePix2Pix();
        using var outline = ImageIO.Load(s.InitPix2Pix);
        using var g = VqganClip.Models.Pix2Pix.UnetGenerator.Load(modelPath);
        using var coloured = VqganClip.Models.Pix2Pix.Pix2PixColouring.Colour(g, outline);
        var folder = s.Output is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(s.Output))!;
        var path = Path.GetFullPath(Pix2PixCommand.DefaultOutput(s.InitPix2Pix, folder));
        ImageIO.Save(coloured, path, new Dictionary<string, string> { ["Software"] = "vqgan-clip pix2pix", ["outline"] = Path.GetFileName(s.InitPix2Pix), ["model"] = Path.GetFileName(modelPath), ["mode"] = "eval" });
        console.WriteLine($"Coloured {Path.GetFileName(s.InitPix2Pix)} with pix2pix ({Path.GetFileName(modelPath)}): {path}, the start picture.");
        return s with { Recipe = s.Recipe with { InitImage = path } };
    }

    /// <summary>Runs the command; user errors propagate to <see cref="CliApp"/>'s one error path.</summary>
    public static int Run(GenerateSettings s, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(s.Threads);
        s = ColourInitOutline(s, console);
        var recipe = s.Recipe;
        if (recipe.Steps < 0) throw new ArgumentException($"--steps must be 0 or more; got {recipe.Steps}.");
        if (s.SaveEvery < 0) throw new ArgumentException($"--save-every must be 0 or more; got {s.SaveEvery}.");

        if (recipe.IsTransformer)
        {
            if (s.Resume is not null) throw new ArgumentException("--resume continues a saved guided run; the transformer generator makes no resumable run (drop --generator transformer to resume).");
            return RunTransformer(s, console);
        }
        if (recipe.AudioPrompts.Count > 0 && s.AudioClip is null)
            throw new ArgumentException("--audio-prompt needs --audioclip FILE: an AudioCLIP checkpoint (AudioCLIP-Partial-Training.pt for vanilla RN50 CLIP's space).");
        var audioModel = s.AudioClip is null ? null : LoadAudioClip(s.AudioClip, console);
        // the CLIP: --clip, else the AudioCLIP file's own towers, else the CLIP a towerless head names (the shipped
        // clipart head: clipart-clip.safetensors beside it), else the shipped one
        var clipPath = s.Clip is null && audioModel?.Clip is not null ? s.AudioClip! : ClipPath(s.Clip ?? audioModel?.PairedClipPath);

        GuidedRun run;
        ClipModel clipModel;
        VqganModel? vqganModel = null;
        string? vqganPath = null;
        BigGanModel? bigganModel = null;
        string? bigganPath = null;
        StyleGan2Model? styleganModel = null;
        if (s.Resume is not null)
        {
            if (!Directory.Exists(s.Resume)) throw new DirectoryNotFoundException($"--resume '{s.Resume}' is not a folder.");
            var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(s.Resume, GuidedRun.RunFileName))).RootElement.GetProperty("generator");
            clipModel = ClipFor(clipPath, s, audioModel, console);
            var savedGenerator = spec.GetProperty("Name").GetString();
            if (savedGenerator == "vqgan")
                (vqganModel, vqganPath) = LoadVqgan(s);
            if (savedGenerator == BigSleepGenerator.GeneratorName)
                (bigganModel, bigganPath) = LoadBigGan(s.BigGan);
            if (savedGenerator == StyleGanGenerator.GeneratorName)
                (styleganModel, bigganPath) = LoadStyleGan(s.StyleGan);
            var bigganForResume = bigganModel;
            var styleganForResume = styleganModel;
            // StyleCLIP's lr follows t = step / total steps: continued to --steps N, the schedule is get_lr over N (the
            // steps done keep their rates: its ramp-up ends at 5 % and its ramp-down starts at 75 % of either total).
            var savedSchedule = JsonDocument.Parse(File.ReadAllText(Path.Combine(s.Resume, GuidedRun.RunFileName))).RootElement
                .TryGetProperty("schedule", out var sched) && sched.ValueKind == JsonValueKind.String ? sched.GetString() : null;
            var schedule = savedSchedule?.StartsWith("styleclip:", StringComparison.Ordinal) == true && recipe.Steps > 0
                ? new Guidance.StyleClip.StyleClipSchedule(recipe.Steps) : null;
            run = GuidedRun.Resume(s.Resume, clipModel, vqganModel, schedule: schedule,
                generatorFactory: bigganForResume is null && styleganForResume is null ? null
                    : g => GeneratorFactory.Create(g, device: clipModel.Device, biggan: bigganForResume, stylegan: styleganForResume));
            console.MarkupLineInterpolated($"Resuming [bold]{s.Resume}[/] at step {run.StepCount}.");
        }
        else
        {
            recipe.Validate();   // the cheap checks before loading models: a typo in the prompt or size fails in milliseconds
            WarnAboutUnknownWords(recipe.Prompt, clipPath, console);
            clipModel = ClipFor(clipPath, s, audioModel, console);
            if (recipe.Generator.Equals("vqgan", StringComparison.OrdinalIgnoreCase)) (vqganModel, vqganPath) = LoadVqgan(s);
            if (recipe.Generator.Equals(BigSleepGenerator.GeneratorName, StringComparison.OrdinalIgnoreCase)) (bigganModel, bigganPath) = LoadBigGan(s.BigGan);
            if (recipe.Generator.Equals(StyleGanGenerator.GeneratorName, StringComparison.OrdinalIgnoreCase)) (styleganModel, bigganPath) = LoadStyleGan(s.StyleGan);
            try
            {
                run = recipe.CreateBestRun(clipModel, vqganModel, line => console.WriteLine(line), bigganModel, styleganModel, audioModel);
            }
            catch (Exception e) when (e is PictureTooLargeException or ArgumentException)
            {
                clipModel.Dispose();
                audioModel?.Dispose();
                vqganModel?.Dispose();
                bigganModel?.Dispose();
                styleganModel?.Dispose();
                if (e is not PictureTooLargeException tooLarge) throw;
                throw new ArgumentException(tooLarge.LargestSide > 0 ? $"{e.Message} Pass --size {tooLarge.LargestSide} or smaller." : e.Message, e);
            }
            var options = run.Options;
            console.MarkupLineInterpolated($"Seed [bold]{options.Seed}[/], {run.Generator.Name} {run.Generator.Width}x{run.Generator.Height}, CLIP {clipModel.ImageSize}px, {run.Prompts.Count} prompt(s).");
        }

        using (audioModel)
        using (clipModel)
        using (vqganModel)
        using (bigganModel)
        using (styleganModel)
        using (run)
        {
            return StepAndSave(run, s, clipPath, vqganPath ?? bigganPath, console);
        }
    }

    /// <summary>
    /// <c>--generator transformer</c>: loads the CLIP and the transformer, samples, ranks and refines
    /// (<see cref="RunRecipe.RunTransformer"/>) with a progress bar, prints the conditioning and the ranking, and writes
    /// the picture with every setting in its text chunks.
    /// </summary>
    private static int RunTransformer(GenerateSettings s, IAnsiConsole console)
    {
        var recipe = s.Recipe;
        if (s.RunDirectory is not null || s.SaveEvery > 0)
            throw new ArgumentException("--run-dir and --save-every belong to the guided loop; the transformer generator makes no resumable run (its refinement is --refine N steps).");
        recipe.Validate();   // the cheap checks before loading models
        var request = recipe.ToTransformerRequest();
        var clipPath = ClipPath(s.Clip);
        WarnAboutUnknownWords(recipe.Prompt, clipPath, console);
        var (model, transformerPath, names) = LoadTransformer(recipe.Transformer, console);
        using (model)
        using (var clip = LoadClip(clipPath, s.ClipLoad, console))
        using (var pipeline = new TransformerPipeline(model, clip, names))
        {
            var grid = pipeline.PlanGrid(request.Width, request.Height, request.Settings.Window);
            console.MarkupLineInterpolated(
                $"Seed [bold]{request.Seed}[/], transformer {grid.Width}x{grid.Height} ({grid.GridHeight}x{grid.GridWidth} tokens{(grid.Window is int w ? $", sliding window {w}" : "")}), {request.Settings.Describe()}.");

            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            TransformerResult? result = null;
            try
            {
                console.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(ctx =>
                    {
                        int k = request.Settings.Samples, batches = (k + request.Settings.BatchSize - 1) / request.Settings.BatchSize;
                        var sampling = ctx.AddTask($"sampling {k} x {grid.Tokens} tokens", maxValue: (double)batches * grid.Tokens);
                        var ranking = ctx.AddTask($"ranking {k} samples", maxValue: k);
                        var refining = request.Settings.RefineSteps > 0 ? ctx.AddTask($"refining {request.Settings.RefineSteps} steps", maxValue: request.Settings.RefineSteps) : null;
                        result = pipeline.Run(request, p =>
                        {
                            switch (p.Stage)
                            {
                                case TransformerStage.Sampling:
                                    if (p.Region is not null && sampling.MaxValue < 2.0 * batches * grid.Tokens)
                                    {
                                        // by halves: each half caption's samples in turn
                                        sampling.MaxValue = 2.0 * batches * grid.Tokens;
                                        sampling.Description = $"sampling 2 halves x {k} x {grid.Tokens} tokens";
                                    }
                                    sampling.Value = ((double)(p.Region ?? 0) * batches + p.Batch) * p.Total + p.Completed;
                                    break;
                                case TransformerStage.Ranking:
                                    sampling.Value = sampling.MaxValue;
                                    if (ranking.MaxValue != p.Total)
                                    {
                                        ranking.MaxValue = p.Total;
                                        ranking.Description = $"ranking {p.Total} joins";
                                    }
                                    ranking.Value = p.Completed;
                                    break;
                                case TransformerStage.Refining when refining is not null:
                                    refining.Value = p.Completed;
                                    refining.Description = string.Create(CultureInfo.InvariantCulture, $"refining {p.Refine?.TotalSteps}/{p.Total}  loss {p.Refine?.Total:F4}");
                                    break;
                            }
                        }, cts.Token);
                        // Progress reports come every few refinement steps: a finished run shows its bars full.
                        sampling.Value = sampling.MaxValue;
                        ranking.Value = ranking.MaxValue;
                        if (refining is not null && result is { Cancelled: false })
                        {
                            refining.Value = refining.MaxValue;
                            refining.Description = string.Create(CultureInfo.InvariantCulture, $"refined {result.RefineSteps} steps");
                        }
                    });
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                console.MarkupLine("[yellow]Stopped[/] before the samples were ranked: no picture written.");
                return 130;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }

            foreach (var warning in result!.Warnings) console.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
            console.MarkupLineInterpolated($"Conditioning: {result.Conditioning.Describe()}.");
            if (result.Conditioning.ClassChosenByClip && result.Conditioning.ClassScores.Count > 1)
                console.WriteLine("  next: " + string.Join(", ", result.Conditioning.ClassScores.Skip(1).Select(c => FormattableString.Invariant($"{c.ClassId} '{c.Name}' {c.Loss:F4}"))));
            for (int r = 0; r < result.RegionCandidates.Count; r++)
                console.WriteLine(FormattableString.Invariant(
                    $"Half {r + 1}, '{result.Conditioning.Regions!.Captions[r]}': ranked {result.RegionCandidates[r].Count} samples, best {result.RegionCandidates[r][0].Loss:F4}."));
            console.WriteLine(FormattableString.Invariant(
                $"Ranked {result.Candidates.Count} {(result.ByHalves ? "joins of the halves' best" : "samples")} ({result.TokensPerSecond:F0} tokens/s): {result.DescribeRanking()}."));
            if (result.RefineSteps > 0)
                console.WriteLine(FormattableString.Invariant(
                    $"Refined sample {result.Best.Sample} for {result.RefineSteps} steps: loss {result.Best.Loss:F4} -> {result.Loss:F4} on the ranking's cutouts."));

            var outPath = Path.GetFullPath(s.Output ?? DefaultOutput(request.Prompts.Source, Directory.GetCurrentDirectory()));
            Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
            result.Image.Save(outPath, TransformerTextChunks(result, request, s, clipPath, transformerPath));
            if (result.Cancelled) console.MarkupLineInterpolated($"[yellow]Stopped[/] refining at step {result.RefineSteps} of {request.Settings.RefineSteps}.");
            console.MarkupLineInterpolated($"Image: [bold]{outPath}[/]");
            return result.Cancelled ? 130 : 0;
        }
    }

    /// <summary>
    /// The transformer of <paramref name="settings"/> (<see cref="TransformerSettings.ResolveFiles"/>: --transformer,
    /// else the shipped one) and its class names; says what it loaded. A file that is not a transformer is a user error
    /// naming --transformer.
    /// </summary>
    public static (Net2NetTransformer Model, string Checkpoint, ClassNames? Names) LoadTransformer(TransformerSettings settings, IAnsiConsole console)
    {
        var (checkpoint, config) = settings.ResolveFiles();
        Net2NetTransformer model;
        try
        {
            model = Net2NetTransformer.Load(checkpoint, config);
        }
        catch (CheckpointFormatException e) when (e.Problem.Contains("It is a VQGAN", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"--transformer '{checkpoint}' is a VQGAN (first-stage) checkpoint, not a transformer: give it as --vqgan with --generator vqgan, or give a taming Net2NetTransformer checkpoint.", e);
        }
        catch (CheckpointFormatException e)
        {
            throw new ArgumentException($"--transformer: {e.Message}", e);
        }
        try
        {
            var names = settings.LoadClassNames(model, checkpoint);
            console.WriteLine($"Transformer {Path.GetFileName(checkpoint)}: {model.CondStage.Description}{(names is null ? "" : $" ({names.Count} names from {names.Source})")}, {model.Config.Gpt.Describe()}");
            return (model, checkpoint, names);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>PNG tEXt chunks of a transformer picture: prompt, seed, model files, every setting, the ranking, and a command line that reproduces it.</summary>
    public static Dictionary<string, string> TransformerTextChunks(TransformerResult result, TransformerRequest request, GenerateSettings s, string clipPath, string transformerPath)
    {
        var t = result.Settings;
        var o = result.RefineOptions ?? request.Guidance;
        var image = request.ExtraPrompts.Where(p => p.Source == PromptSource.Image).Select(p => p.ToString()).ToList();
        var noise = request.ExtraPrompts.Where(p => p.Source == PromptSource.Noise).Select(p => p.ToString()).ToList();
        var chunks = new Dictionary<string, string>
        {
            ["Software"] = "vqgan-clip generate",
            ["prompt"] = request.Prompts.Source,
            ["seed"] = result.Seed.ToString(CultureInfo.InvariantCulture),
            ["generator"] = TransformerPipeline.GeneratorName,
            ["size"] = $"{result.Width}x{result.Height}",
            ["grid"] = $"{result.GridHeight}x{result.GridWidth}" + (result.Window is int w ? $" (sliding window {w})" : ""),
            ["clip"] = Path.GetFileName(clipPath),
            ["transformer"] = Path.GetFileName(transformerPath),
            ["conditioning"] = result.Conditioning.Describe(),
            ["transformer_settings"] = JsonSerializer.Serialize(t, new JsonSerializerOptions(GuidedRun.Json) { WriteIndented = false }),
            ["candidates"] = JsonSerializer.Serialize(result.Candidates.Select(c => new { sample = c.Sample, loss = c.Loss })),
            ["loss"] = result.Loss.ToString("R", CultureInfo.InvariantCulture),
            ["step"] = result.RefineSteps.ToString(CultureInfo.InvariantCulture),
            ["options"] = JsonSerializer.Serialize(o, new JsonSerializerOptions(GuidedRun.Json) { WriteIndented = false }),
        };
        if (t.Config is not null) chunks["transformer_config"] = Path.GetFileName(t.Config);
        if (result.Conditioning.ClassId is int classId) chunks["class"] = classId.ToString(CultureInfo.InvariantCulture);
        if (result.Conditioning.Caption is { } caption) chunks["caption"] = caption;
        if (image.Count > 0) chunks["image_prompts"] = string.Join(" | ", image);
        if (noise.Count > 0) chunks["noise_prompts"] = string.Join(" | ", noise);

        var cmd = new StringBuilder("vqgan-clip generate ");
        cmd.Append(Quote(request.Prompts.Source));
        cmd.Append(" --generator ").Append(TransformerPipeline.GeneratorName);
        if (t.Checkpoint is not null) cmd.Append(" --transformer ").Append(Quote(t.Checkpoint));
        if (t.Config is not null) cmd.Append(" --transformer-config ").Append(Quote(t.Config));
        if (t.ClassNamesFile is not null) cmd.Append(" --class-names ").Append(Quote(t.ClassNamesFile));
        cmd.Append(CultureInfo.InvariantCulture, $" --size {result.Width}x{result.Height} --samples {t.Samples} --temperature {t.Temperature:R}");
        if (t.GuidanceScale != 1.0) cmd.Append(CultureInfo.InvariantCulture, $" --guidance-scale {t.GuidanceScale:R}");
        if (t.TopK is int k) cmd.Append(CultureInfo.InvariantCulture, $" --top-k {k}");
        if (t.TopP is double p) cmd.Append(CultureInfo.InvariantCulture, $" --top-p {p:R}");
        if (!t.Regional) cmd.Append(" --regional false");
        else
        {
            if (t.RegionalPicks != TransformerSettings.Default.RegionalPicks) cmd.Append(CultureInfo.InvariantCulture, $" --regional-picks {t.RegionalPicks}");
            if (t.RegionalJoin != TransformerSettings.Default.RegionalJoin) cmd.Append(" --regional-join ").Append(t.RegionalJoin.ToString().ToLowerInvariant());
            if (t.RegionalShift != TransformerSettings.Default.RegionalShift) cmd.Append(CultureInfo.InvariantCulture, $" --regional-shift {t.RegionalShift}");
            if (t.RegionalBackdrop != TransformerSettings.Default.RegionalBackdrop)
                cmd.Append(" --regional-backdrop ").Append(t.RegionalBackdrop is { } b ? b.ToString("R", CultureInfo.InvariantCulture) : "off");
        }
        if (t.SmallScale != TransformerSettings.Default.SmallScale) cmd.Append(CultureInfo.InvariantCulture, $" --small-scale {t.SmallScale:R}");
        if (t.Placement != TransformerSettings.Default.Placement) cmd.Append(" --placement ").Append(t.Placement.ToString().ToLowerInvariant());
        cmd.Append(CultureInfo.InvariantCulture, $" --refine {t.RefineSteps} --anchor-weight {t.AnchorWeight:R}");
        if (t.ClassId is int id) cmd.Append(CultureInfo.InvariantCulture, $" --class {id}");
        cmd.Append(CultureInfo.InvariantCulture, $" --cutn {o.CutCount} --cut-pow {o.CutPower:R} --cut-method {o.CutMethod.ToString().ToLowerInvariant()}");
        cmd.Append(CultureInfo.InvariantCulture, $" --lr {o.LearningRate:R} --optimizer {o.Optimizer} --schedule {o.Schedule} --seed {result.Seed}");
        if (!string.IsNullOrWhiteSpace(s.Recipe.Augment)) cmd.Append(" --augment ").Append(Quote(s.Recipe.Augment));
        if (o.TotalVariationWeight > 0) cmd.Append(CultureInfo.InvariantCulture, $" --tv {o.TotalVariationWeight:R}");
        if (o.PhaseSteps > 0) cmd.Append(CultureInfo.InvariantCulture, $" --phase-steps {o.PhaseSteps}");
        foreach (var ip in image) cmd.Append(" --image-prompt ").Append(Quote(ip));
        foreach (var np in noise) cmd.Append(" --noise-prompt ").Append(np);
        chunks["command"] = cmd.ToString();
        return chunks;
    }

    /// <summary>Loads the CLIP and says which activation it runs and why (a CLIP file does not carry it).</summary>
    /// <summary>The AudioCLIP at <paramref name="path"/> (checked to exist), with a line saying what it holds.</summary>
    public static AudioClipModel LoadAudioClip(string path, IAnsiConsole console)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"AudioCLIP checkpoint '{path}' does not exist.", path);
        var model = AudioClipLoader.Load(path);
        console.WriteLine(FormattableString.Invariant(
            $"AudioCLIP {Path.GetFileName(path)}: audio head {model.AudioParameterCount / 1e6:F1}M parameters, embed {model.EmbedDim}{(model.Clip is null ? ", no CLIP towers" : $", CLIP {model.Clip.Config.Describe()}")}"));
        return model;
    }

    /// <summary>The CLIP of a guided run: the AudioCLIP file's towers when <paramref name="clipPath"/> is that file, else the file loaded.</summary>
    private static ClipModel ClipFor(string clipPath, GenerateSettings s, AudioClipModel? audio, IAnsiConsole console) =>
        audio is not null && s.Clip is null && clipPath == s.AudioClip ? audio.TakeClip()! : LoadClip(clipPath, s.ClipLoad, console);

    public static ClipModel LoadClip(string path, ClipLoadOptions? options, IAnsiConsole console)
    {
        var model = ClipModel.Load(path, options: options);
        console.WriteLine($"CLIP {Path.GetFileName(path)}: {ClipOptions.DescribeActivation(model.Config)}");
        return model;
    }

    /// <summary>
    /// Warns when the prompt uses words the CLIP never saw in training, which it has no idea of: the shipped CLIP
    /// knows only the clipart world's captions, listed in the vocabulary file beside it (<see cref="PromptVocabulary"/>).
    /// CLIPs without such a file are not checked.
    /// </summary>
    public static void WarnAboutUnknownWords(string? prompt, string clipPath, IAnsiConsole console)
    {
        if (string.IsNullOrWhiteSpace(prompt) || PromptVocabulary.Beside(clipPath) is not { } vocabulary) return;
        var texts = PromptParser.Parse(prompt).Phases.SelectMany(p => p).Where(p => p.Source == PromptSource.Text).Select(p => p.Text);
        var unknown = texts.SelectMany(vocabulary.UnknownWords).Distinct().ToList();
        if (unknown.Count == 0) return;
        console.MarkupLineInterpolated(
            $"[yellow]warning:[/] the CLIP {Path.GetFileName(clipPath)} never saw {string.Join(", ", unknown.Select(w => $"'{w}'"))} in training, so those words guide towards nothing. It knows {vocabulary.Describe()}.");
    }

    /// <summary>The CLIP file to load: <paramref name="clip"/> (--clip), else the shipped one; checked to exist.</summary>
    public static string ClipPath(string? clip)
    {
        var path = clip ?? ShippedModels.RequireClip();
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP checkpoint '{path}' does not exist.", path);
        return path;
    }

    /// <summary>The --stylegan option of generate.</summary>
    public static Option<string?> StyleGanOption() => new("--stylegan")
    {
        Description = "StyleGAN2 for the stylegan generator (StyleCLIP): rosinality's stylegan2-*-config-f.pt ({g_ema, latent_avg}) or a .safetensors of its g_ema (default: the shipped data/clipart-stylegan.safetensors); implies --generator stylegan",
    };

    /// <summary>The StyleGAN2 at <paramref name="path"/> (--stylegan), else the shipped clipart one.</summary>
    public static (StyleGan2Model, string) LoadStyleGan(string? path)
    {
        path ??= ShippedModels.RequireStyleGan();
        if (!File.Exists(path)) throw new FileNotFoundException($"StyleGAN2 file '{path}' does not exist.", path);
        return (StyleGan2Model.Load(path), path);
    }

    /// <summary>The --biggan option of generate and eval.</summary>
    public static Option<string?> BigGanOption() => new("--biggan")
    {
        Description = $"BigGAN-deep for the biggan generator (Big Sleep): a pytorch_model.bin (with config.json beside it), a .safetensors, or a folder holding one (default: the shipped data/{ShippedModels.BigGanFileName}); implies --generator biggan",
    };

    /// <summary>
    /// The BigGAN at <paramref name="path"/> (--biggan: a file, or a folder holding <c>pytorch_model.bin</c> or one
    /// <c>.safetensors</c>), else the shipped one; checked to exist. Returns the model and the file it came from.
    /// </summary>
    public static (BigGanModel, string) LoadBigGan(string? path)
    {
        var file = path ?? ShippedModels.RequireBigGan();
        if (Directory.Exists(file))
        {
            var inside = new[] { "pytorch_model.bin" }.Select(n => Path.Combine(file, n)).Where(File.Exists)
                .Concat(Directory.EnumerateFiles(file, "*.safetensors").Order(StringComparer.Ordinal)).ToList();
            file = inside.Count > 0 ? inside[0]
                : throw new FileNotFoundException($"--biggan '{path}' is a folder without a pytorch_model.bin or .safetensors file.", path);
        }
        else if (!File.Exists(file)) throw new FileNotFoundException($"BigGAN file '{file}' does not exist.", file);
        return (BigGanModel.Load(file), file);
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

    private static int StepAndSave(GuidedRun run, GenerateSettings s, string clipPath, string? modelPath, IAnsiConsole console)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        // a resumed run writes where it first wrote, unless --out is given again
        var outPath = Path.GetFullPath(s.Output
            ?? (s.Resume is not null ? RunOutputFile.Read(s.Resume) : null)
            ?? DefaultOutput(run.Script.Source, Directory.GetCurrentDirectory()));
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        var snapshotStem = Path.Combine(Path.GetDirectoryName(outPath)!, Path.GetFileNameWithoutExtension(outPath));
        var written = new List<string>();
        int remaining = Math.Max(0, s.Recipe.Steps - run.StepCount);
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
                        var task = ctx.AddTask($"step {run.StepCount}/{s.Recipe.Steps}", maxValue: remaining);
                        last = run.Step(remaining, ct: cts.Token, every: 1, onUpdate: r =>
                        {
                            task.Value = r.Completed;
                            task.Description = string.Create(CultureInfo.InvariantCulture,
                                $"step {r.TotalSteps}/{s.Recipe.Steps}  loss {r.Total:F4}  {r.StepsPerSecond:F2} it/s");
                            if (s.SaveEvery > 0 && r.Loss is { } loss && r.Image is { } img && loss.Step % s.SaveEvery == 0)
                            {
                                var path = string.Create(CultureInfo.InvariantCulture, $"{snapshotStem}-{loss.Step:D4}.png");
                                img.Save(path, TextChunks(run, s, clipPath, modelPath, loss.Step));
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
        run.CurrentImage().Save(outPath, TextChunks(run, s, clipPath, modelPath, run.StepCount));
        string? runDir = null;
        if (cancelled || s.RunDirectory is not null)
        {
            runDir = run.Save(Path.GetFullPath(s.RunDirectory ?? snapshotStem + ".run"));
            RunOutputFile.Write(runDir, outPath);
        }

        if (cancelled) console.MarkupLineInterpolated($"[yellow]Stopped[/] at step {run.StepCount} of {s.Recipe.Steps}.");
        if (run.History.Count > 0)
            console.MarkupLineInterpolated($"Loss {run.History[0].Total:F4} at step 0 -> {run.History[^1].Total:F4} at step {run.History[^1].Step}.");
        if (written.Count > 0) console.MarkupLineInterpolated($"Snapshots: {written.Count} files {snapshotStem}-NNNN.png");
        console.MarkupLineInterpolated($"Image: [bold]{outPath}[/]");
        if (runDir is not null)
        {
            console.MarkupLineInterpolated($"Resumable run: [bold]{runDir}[/]; continue with:");
            // written as is, not through Spectre, which wraps at the console's width (80 when output is not a
            // terminal): a command split over two lines runs without its last arguments when one line is copied
            console.Profile.Out.Writer.WriteLine($"vqgan-clip generate --resume {Quote(runDir)} --steps {s.Recipe.Steps}");
        }
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
    public static Dictionary<string, string> TextChunks(GuidedRun run, GenerateSettings s, string clipPath, string? modelPath, int step)
    {
        var o = run.Options;
        var image = run.ExtraPrompts.Where(p => p.Source == PromptSource.Image).Select(p => p.ToString()).ToList();
        var noise = run.ExtraPrompts.Where(p => p.Source == PromptSource.Noise).Select(p => p.ToString()).ToList();
        var audio = run.ExtraPrompts.Concat(run.Script.All).Where(p => p.Source == PromptSource.Audio).Select(p => p.ToString()).ToList();
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
        // the generator's own model: the VQGAN of the vqgan generator, the BigGAN of the biggan generator
        if (modelPath is not null) chunks[run.Generator is BigSleepGenerator ? "biggan" : run.Generator is StyleGanGenerator ? "stylegan" : "vqgan"] = Path.GetFileName(modelPath);
        if (image.Count > 0) chunks["image_prompts"] = string.Join(" | ", image);
        if (noise.Count > 0) chunks["noise_prompts"] = string.Join(" | ", noise);
        if (audio.Count > 0) chunks["audio_prompts"] = string.Join(" | ", audio);
        if (s.AudioClip is not null) chunks["audioclip"] = Path.GetFileName(s.AudioClip);
        if (s.Recipe.InitImage is not null) chunks["init_image"] = s.Recipe.InitImage;
        if (o.StyleImage is not null) chunks["style_image"] = o.StyleImage;
        if (o.FeatureImage is not null) chunks["feature_image"] = o.FeatureImage;

        var cmd = new StringBuilder("vqgan-clip generate ");
        cmd.Append(Quote(run.Script.Source));
        cmd.Append(CultureInfo.InvariantCulture, $" --generator {run.Generator.Name} --size {run.Generator.Width}x{run.Generator.Height} --steps {step}");
        cmd.Append(CultureInfo.InvariantCulture, $" --cutn {o.CutCount} --cut-pow {o.CutPower:R} --cut-method {o.CutMethod.ToString().ToLowerInvariant()}");
        cmd.Append(CultureInfo.InvariantCulture, $" --lr {o.LearningRate:R} --optimizer {o.Optimizer} --schedule {o.Schedule} --seed {o.Seed}");
        if (!string.IsNullOrWhiteSpace(s.Recipe.Augment)) cmd.Append(" --augment ").Append(Quote(s.Recipe.Augment));
        if (o.InitWeight > 0) cmd.Append(CultureInfo.InvariantCulture, $" --init-weight {o.InitWeight:R}");
        if (o.TotalVariationWeight > 0) cmd.Append(CultureInfo.InvariantCulture, $" --tv {o.TotalVariationWeight:R}");
        if (o.StyleImage is not null) cmd.Append(" --style-image ").Append(Quote(o.StyleImage)).Append(CultureInfo.InvariantCulture, $" --style-weight {o.StyleWeight:R}");
        if (o.FeatureImage is not null) cmd.Append(" --feature-image ").Append(Quote(o.FeatureImage)).Append(CultureInfo.InvariantCulture, $" --feature-weight {o.FeatureWeight:R}");
        if (o.PhaseSteps > 0) cmd.Append(CultureInfo.InvariantCulture, $" --phase-steps {o.PhaseSteps}");
        if (o.PromptLoss != GuidanceOptions.Default.PromptLoss || run.Generator is BigSleepGenerator or StyleGanGenerator)
            cmd.Append(" --prompt-loss ").Append(o.PromptLoss.ToString().ToLowerInvariant());
        if (run.Generator.Name == "strokes") cmd.Append(" --strokes ").Append(run.Generator.Settings["strokes"]);
        if (run.Generator is BigSleepGenerator bigSleep)
        {
            if (modelPath is not null) cmd.Append(" --biggan ").Append(Quote(modelPath));
            if (bigSleep.MaxClasses is int k) cmd.Append(CultureInfo.InvariantCulture, $" --max-classes {k}");
            cmd.Append(CultureInfo.InvariantCulture, $" --ema-decay {bigSleep.EmaDecay ?? 0:R}");
            // the start CLIP chose is made again from the same class choice and seed
            cmd.Append(" --class ").Append(Quote(bigSleep.StartChoice?.Class ?? "none"));
            if (bigSleep.StartChoice is { } start) cmd.Append(CultureInfo.InvariantCulture, $" --candidates {start.Candidates}");
        }
        if (run.Generator is StyleGanGenerator styleGan)
        {
            if (modelPath is not null) cmd.Append(" --stylegan ").Append(Quote(modelPath));
            if (s.Recipe.StyleGanLatent is not null) cmd.Append(" --latent ").Append(Quote(s.Recipe.StyleGanLatent));
            if (styleGan.Start == StyleGanStart.Mean) cmd.Append(" --free");
            cmd.Append(CultureInfo.InvariantCulture, $" --l2-lambda {styleGan.L2Lambda:R}");
            if (styleGan.WorkInStyleSpace) cmd.Append(" --stylespace");
        }
        if (s.Recipe.InitImage is null && run.Generator is VqganLatentGenerator { Init: not LatentInit.RandomCodes and not LatentInit.Image } latent)
            cmd.Append(" --init ").Append(latent.Init == LatentInit.Flat ? "flat" : "noise");
        foreach (var p in image) cmd.Append(" --image-prompt ").Append(Quote(p));
        foreach (var p in noise) cmd.Append(" --noise-prompt ").Append(p);
        foreach (var p in audio) cmd.Append(" --audio-prompt ").Append(Quote(p));
        if (s.AudioClip is not null) cmd.Append(" --audioclip ").Append(Quote(s.AudioClip));
        if (s.Recipe.InitImage is not null) cmd.Append(" --init-image ").Append(Quote(s.Recipe.InitImage));
        chunks["command"] = cmd.ToString();
        return chunks;
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
