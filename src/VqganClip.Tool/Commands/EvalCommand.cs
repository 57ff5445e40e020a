using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Guidance;
using VqganClip.Clipart;
using VqganClip.Clipart.Eval;
using VqganClip.Clipart.Judge;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Running;
using VqganClip.Models.BigGan;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using VqganClip.Models.StyleGan2;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Tool.Commands;

/// <summary>
/// <c>vqgan-clip eval</c>: generates a picture for each of the fixed clipart prompts (or a prompt file) with
/// <c>generate</c>'s default settings and grades it with the independent judge (colour masses and centroids plus a
/// separately trained object classifier; it never sees the guiding CLIP). <c>--generator vqgan|pixels|fourier|strokes</c>
/// chooses the "X + CLIP" generator, <c>--generator transformer</c> the transformer pipeline (sample, rank with CLIP,
/// optionally refine: <see cref="TransformerPipeline"/>); <c>--generator reference</c> draws each prompt's canonical scene (the judge's ceiling),
/// <c>--generator reconstruction</c> passes that drawing through the VQGAN (the ceiling of any VQGAN-latent picture).
/// Every prompt gets the same seed (<c>--seed</c>), so a report is reproducible. One seed's figure moves by several
/// prompts from seed to seed (the transformer pipeline's satisfied count on the 48 prompts ranged 5-14 of 48 over
/// four seeds without refinement), so <c>--seeds N</c> repeats the whole evaluation with seeds <c>--seed</c>,
/// <c>--seed</c>+1, ... and prints each seed's figure with their mean, lowest and highest.
/// </summary>
public static class EvalCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var generator = new Option<string?>("--generator", "-g") { Description = "vqgan | pixels | fourier | strokes (X + CLIP, generate's default settings), transformer (sample with the transformer, CLIP keeps the best), reference (draws the prompt's scene: the judge's ceiling) or reconstruction (that drawing through the VQGAN: the VQGAN's ceiling). " + RecipeOptions.DefaultGeneratorHelp.Replace("--resume, ", "") };
        generator.AcceptOnlyFromAmong([.. RunRecipe.GeneratorNames, "reference", "reconstruction"]);
        var recipe = new RecipeOptions();
        var clip = new Option<string?>("--clip") { Description = "CLIP checkpoint that guides (default: the shipped data/clipart-clip.safetensors)" };
        var vqgan = new Option<string?>("--vqgan") { Description = "VQGAN checkpoint (default: the shipped data/clipart-vqgan.safetensors)" };
        var biggan = GenerateCommand.BigGanOption();
        var stylegan = GenerateCommand.StyleGanOption();
        var seed = new Option<long>("--seed") { Description = "Seed of every picture", DefaultValueFactory = _ => 0 };
        var seeds = new Option<int>("--seeds") { Description = $"Evaluate with this many seeds (--seed, --seed+1, ...; at most {MaxSeeds}) and print each seed's figure with their mean, lowest and highest: one seed's figure moves by several prompts from seed to seed", DefaultValueFactory = _ => 1 };
        var threads = new Option<int?>("--threads") { Description = "Torch intra-op threads" };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Also save each picture here (NN-prompt.png)" };
        var promptsFile = new Option<FileInfo?>("--prompts") { Description = "Text file with one prompt per line (default: the fixed evaluation prompts)" };
        var promptSet = new Option<string>("--set") { Description = "The fixed prompts to use: all (48) | single (the 32 that name one object: a single-object generator such as biggan is graded on these)", DefaultValueFactory = _ => "all" };
        var limit = new Option<int?>("--limit") { Description = "Only the first N prompts" };
        var classifier = new Option<string?>("--classifier") { Description = $"Judge classifier (default: {ObjectClassifier.DefaultRelativePath} found upward)" };
        var markdown = new Option<FileInfo?>("--report") { Description = "Also write the report as Markdown to this file" };

        console ??= AnsiConsole.Console;
        var command = new Command("eval", "Generate an image per clipart prompt and grade it with the independent judge (generate's settings and defaults)")
        {
            generator, clip, vqgan, biggan, stylegan, seed, seeds,
        };
        var clipOptions = ClipOptions.AddTo(command);
        recipe.AddTo(command, includeGenerator: false);
        foreach (var o in new Option[] { threads, images, promptsFile, promptSet, limit, classifier, markdown }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            IEnumerable<string> prompts = parse.GetValue(promptsFile) is { } file
                ? File.ReadAllLines(file.FullName).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
                : EvalPrompts.Named(parse.GetValue(promptSet)!);
            if (parse.GetValue(limit) is int n) prompts = prompts.Take(n);
            var list = prompts.ToList();
            foreach (var p in list) CaptionParser.Parse(p);   // a prompt outside the clipart grammar is named before any model loads

            if (parse.GetValue(threads) is int t) TorchRuntime.SetThreads(t);
            var kind = recipe.ChooseGenerator(parse, userModels: parse.GetValue(clip) is not null || parse.GetValue(vqgan) is not null, generator,
                implied: parse.GetValue(biggan) is not null ? BigSleepGenerator.GeneratorName : parse.GetValue(stylegan) is not null ? StyleGanGenerator.GeneratorName : null);
            var settings = recipe.Read(parse, generator: kind) with { Seed = parse.GetValue(seed) };
            int seedCount = parse.GetValue(seeds);
            if (seedCount < 1 || seedCount > MaxSeeds)
                throw new ArgumentException($"--seeds must be between 1 and {MaxSeeds}; got {seedCount}.");
            long firstSeed = settings.Seed!.Value;
            if (settings.Size is { } typedSize) RunRecipe.ParseSize(typedSize);   // a typo fails before any model loads
            bool guided = kind is not ("reference" or "reconstruction");
            using var engine = guided ? EngineGenerator.Load(settings, parse.GetValue(clip), clipOptions.Read(parse), parse.GetValue(vqgan), parse.GetValue(biggan), parse.GetValue(stylegan), console) : null;
            using var autoencoder = kind == "reconstruction" ? GenerateCommand.LoadVqgan(new GenerateCommand.GenerateSettings { Vqgan = parse.GetValue(vqgan) }).Item1 : null;
            // the ceilings (reference drawings, their VQGAN reconstructions) do not depend on the seed
            Func<string, Tensor> ceiling = autoencoder is not null ? Evaluator.ReconstructReference(autoencoder) : Evaluator.RenderReference;
            if (engine is not null)
                console.MarkupLineInterpolated($"Generator {kind}: {engine.Describe()}");

            using var kinds = parse.GetValue(classifier) is { } path ? ObjectClassifier.Load(path) : ObjectClassifier.LoadDefault();
            var judge = new SceneJudge(kinds);
            var reports = new List<(long Seed, EvalReport Report)>();
            for (int k = 0; k < seedCount; k++)
            {
                long runSeed = firstSeed + k;
                Func<string, Tensor> generateSeeded = engine is not null ? prompt => engine.Generate(prompt, runSeed) : ceiling;
                if (parse.GetValue(images) is { } imageFolder)
                    generateSeeded = SavingEach(generateSeeded, seedCount == 1 ? imageFolder.FullName : Path.Combine(imageFolder.FullName, FormattableString.Invariant($"seed-{runSeed}")));
                if (seedCount > 1) console.WriteLine(FormattableString.Invariant($"Seed {runSeed} ({k + 1} of {seedCount}):"));
                var report = Evaluator.Run(generateSeeded, list, judge,
                    item =>
                    {
                        if (item.Satisfied) console.MarkupLineInterpolated($"[green]ok  [/] {item.Prompt}");
                        else console.MarkupLineInterpolated($"[red]FAIL[/] {item.Prompt}  — {item.Verdict.Summary}");
                    });
                console.WriteLine(FormattableString.Invariant($"Satisfied {report.SatisfiedCount}/{report.Count} ({report.SatisfiedFraction:P1}) with the {kind} generator{(seedCount > 1 ? $", seed {runSeed}" : "")}; {report.Items.Average(i => i.GenerateTime.TotalSeconds):F1} s per picture"));
                console.WriteLine($"  {report.Breakdown()}");
                foreach (var (check, count) in report.FailuresByCheck)
                    console.WriteLine($"  {check}: failed {count} time(s)");
                reports.Add((runSeed, report));
            }
            if (seedCount > 1) console.WriteLine(SeedsSummary(reports));
            if (parse.GetValue(markdown) is { } md)
            {
                File.WriteAllText(md.FullName, seedCount == 1 ? reports[0].Report.ToMarkdown()
                    : SeedsSummary(reports) + Environment.NewLine + string.Concat(reports.Select(r => FormattableString.Invariant($"{Environment.NewLine}## Seed {r.Seed}{Environment.NewLine}{Environment.NewLine}{r.Report.ToMarkdown()}"))));
                console.WriteLine($"Report written to {md.FullName}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>The most seeds one evaluation runs (each is a whole evaluation).</summary>
    public const int MaxSeeds = 100;

    /// <summary>"Over 4 seeds (0-3): satisfied 8.5/48 on average (lowest 5, highest 14): 5, 7, 8, 14."</summary>
    private static string SeedsSummary(IReadOnlyList<(long Seed, EvalReport Report)> reports)
    {
        var counts = reports.Select(r => r.Report.SatisfiedCount).ToList();
        return FormattableString.Invariant(
            $"Over {reports.Count} seeds ({reports[0].Seed}-{reports[^1].Seed}): satisfied {counts.Average():0.##}/{reports[0].Report.Count} on average (lowest {counts.Min()}, highest {counts.Max()}): {string.Join(", ", counts)}.");
    }

    /// <summary>Wraps <paramref name="generate"/> so each picture is also written to <paramref name="folder"/> as NN-prompt.png.</summary>
    private static Func<string, Tensor> SavingEach(Func<string, Tensor> generate, string folder)
    {
        Directory.CreateDirectory(folder);
        int count = 0;
        return prompt =>
        {
            var image = generate(prompt);
            var name = FormattableString.Invariant($"{++count:D2}-{GenerateCommand.PromptSlug(prompt)}.png");
            // A picture with NaN pixels cannot be written; the evaluator records it as this prompt's failure.
            if (image.isfinite().all().item<bool>())
                RenderedImage.FromTensor(image, 0).Save(Path.Combine(folder, name));
            return image;
        };
    }

    /// <summary>
    /// Prompt -> picture with <c>generate</c>'s settings (<see cref="RunRecipe.CreateBestRun"/>, or for the transformer
    /// <see cref="RunRecipe.RunTransformer"/>) on models loaded once for all prompts.
    /// </summary>
    private sealed class EngineGenerator : IDisposable
    {
        private readonly RunRecipe _recipe;
        private readonly ClipModel _clip;
        private readonly VqganModel? _vqgan;
        private readonly BigGanModel? _biggan;
        private readonly StyleGan2Model? _stylegan;
        private readonly Net2NetTransformer? _transformer;
        private readonly TransformerPipeline? _pipeline;
        private readonly string? _transformerPath;

        private EngineGenerator(RunRecipe recipe, ClipModel clip, VqganModel? vqgan, BigGanModel? biggan = null, StyleGan2Model? stylegan = null) =>
            (_recipe, _clip, _vqgan, _biggan, _stylegan) = (recipe, clip, vqgan, biggan, stylegan);

        private EngineGenerator(RunRecipe recipe, ClipModel clip, Net2NetTransformer transformer, TransformerPipeline pipeline, string transformerPath)
            : this(recipe, clip, null) =>
            (_transformer, _pipeline, _transformerPath) = (transformer, pipeline, transformerPath);

        public static EngineGenerator Load(RunRecipe recipe, string? clipPath, ClipLoadOptions clipLoad, string? vqganPath, string? bigganPath, string? styleganPath, IAnsiConsole console)
        {
            TorchRuntime.EnsureInitialized();
            if (recipe.IsTransformer) return LoadTransformer(recipe, clipPath, clipLoad, console);
            if (recipe.Steps <= 0) throw new ArgumentException($"--steps must be at least 1; got {recipe.Steps}.");
            recipe.Validate();
            clipPath = GenerateCommand.ClipPath(clipPath);
            var vqgan = recipe.Generator == "vqgan" ? GenerateCommand.LoadVqgan(new GenerateCommand.GenerateSettings { Vqgan = vqganPath }).Item1 : null;
            var biggan = recipe.Generator == BigSleepGenerator.GeneratorName ? GenerateCommand.LoadBigGan(bigganPath).Item1 : null;
            var stylegan = recipe.Generator == StyleGanGenerator.GeneratorName ? GenerateCommand.LoadStyleGan(styleganPath).Item1 : null;
            var clip = GenerateCommand.LoadClip(clipPath, clipLoad, console);
            try
            {
                // every setting checked once, before the first picture
                using var probe = (recipe with { Prompt = "a red circle", Starts = 1 }).CreateRun(clip, vqgan, biggan, stylegan);
            }
            catch
            {
                clip.Dispose();
                vqgan?.Dispose();
                biggan?.Dispose();
                stylegan?.Dispose();
                throw;
            }
            return new EngineGenerator(recipe, clip, vqgan, biggan, stylegan);
        }

        /// <summary>The transformer pipeline on the --transformer model (or the shipped one); every setting checked on a probe prompt first.</summary>
        private static EngineGenerator LoadTransformer(RunRecipe recipe, string? clipPath, ClipLoadOptions clipLoad, IAnsiConsole console)
        {
            recipe.Validate();
            clipPath = GenerateCommand.ClipPath(clipPath);
            var (model, checkpoint, names) = GenerateCommand.LoadTransformer(recipe.Transformer, console);
            ClipModel? clip = null;
            TransformerPipeline? pipeline = null;
            try
            {
                clip = GenerateCommand.LoadClip(clipPath, clipLoad, console);
                pipeline = new TransformerPipeline(model, clip, names);
                // every setting checked once, before the first picture: the size, the class, the conditioning
                var probe = (recipe with { Prompt = "a red circle" }).ToTransformerRequest();
                pipeline.PlanGrid(probe.Width, probe.Height, probe.Settings.Window);
                pipeline.ChooseConditioning(probe.Prompts, probe.Settings, guidance: probe.Guidance);
                return new EngineGenerator(recipe, clip, model, pipeline, checkpoint);
            }
            catch
            {
                pipeline?.Dispose();
                clip?.Dispose();
                model.Dispose();
                throw;
            }
        }

        public string Describe()
        {
            var s = _recipe;
            if (_pipeline is not null)
            {
                var grid = _pipeline.PlanGrid(s.Size is null ? null : RunRecipe.ParseSize(s.Size).Width, s.Size is null ? null : RunRecipe.ParseSize(s.Size).Height, s.Transformer.Window);
                return FormattableString.Invariant($"{Path.GetFileName(_transformerPath)} ({_transformer!.CondStage.Description}), {s.Transformer.Describe()}, {s.CutMethod} ranking cutouts, seed {s.Seed}, {grid.Width}x{grid.Height}");
            }
            var (width, height) = _biggan is not null ? (_biggan.ImageSize, _biggan.ImageSize) : _stylegan is not null ? (_stylegan.ImageSize, _stylegan.ImageSize) : s.Size is null ? RunRecipe.DefaultSize(_clip) : RunRecipe.ParseSize(s.Size);
            var size = FormattableString.Invariant($"{width}x{height}");
            return FormattableString.Invariant($"{s.Steps} steps{(s.Generator == "vqgan" ? $", init {s.Init}" : "")}{(s.Starts > 1 ? $" (best of {s.Starts} starts after {s.TrialSteps})" : "")}, {s.CutCount} {s.CutMethod} cutouts{(s.Augment is null ? "" : $" ({s.Augment})")}, {s.Optimizer} lr {s.LearningRate}, {s.PromptLoss} prompt loss{(_biggan is not null ? $", EMA {s.EmaDecay ?? 0}{(s.MaxClasses is int k ? $", {k} classes" : "")}{(s.BigGanClass is { } c ? $", start: class {c}, best of {s.BigGanCandidates} latents" : "")}" : "")}, seed {s.Seed}, {size}");
        }

        /// <summary>The picture for <paramref name="prompt"/> with the recipe's settings and <paramref name="seed"/>.</summary>
        public Tensor Generate(string prompt, long seed)
        {
            var recipe = _recipe with { Prompt = prompt, Seed = seed };
            if (_pipeline is not null) return recipe.RunTransformer(_pipeline).Image.ToTensor();
            using var run = recipe.CreateBestRun(_clip, _vqgan, biggan: _biggan, stylegan: _stylegan);
            run.Step(Math.Max(0, recipe.Steps - run.StepCount));
            return run.CurrentImage().ToTensor();
        }

        public void Dispose()
        {
            _pipeline?.Dispose();
            _transformer?.Dispose();
            _clip.Dispose();
            _vqgan?.Dispose();
            _biggan?.Dispose();
            _stylegan?.Dispose();
        }
    }
}
