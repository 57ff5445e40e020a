using System.Text.Json;
using System.CommandLine;
using Spectre.Console;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Tool.Commands;
using VqganClip.Guidance;
using VqganClip.Training;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;
using VqganClip.Clipart;

namespace VqganClip.Training.Tests.Shipped;

/// <summary>
/// The models in data/ (issue 7), loaded exactly as users load them: through <see cref="ShippedModels"/> and the public
/// <see cref="ClipModel.Load"/> / <see cref="VqganModel.Load"/>. The held-out figures are checked on small samples with
/// a margin under the model card's 1,000-scene numbers (those come from <c>vqgan-clip eval-models</c>).
/// </summary>
public sealed class ShippedModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqgan-clip-shipped-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string DataFile(string name)
    {
        var path = Path.Combine(TestSetup.RepoRoot, "data", name);
        Assert.True(File.Exists(path), $"{path} is missing");
        return path;
    }

    private static IReadOnlyList<string> HeaderKeys(string safetensors)
    {
        using var f = File.OpenRead(safetensors);
        var length = new byte[8];
        f.ReadExactly(length);
        var json = new byte[BitConverter.ToInt64(length)];
        f.ReadExactly(json);
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
    }

    [Fact]
    public void TheShippedFilesAreFoundFromTheRepositoryAndAreSmall()
    {
        Assert.Equal(DataFile(ShippedModels.ClipFileName), ShippedModels.FindClip());
        var vqgan = ShippedModels.FindVqgan();
        Assert.NotNull(vqgan);
        Assert.Equal(DataFile(ShippedModels.VqganFileName), vqgan.Value.Checkpoint);
        Assert.Equal(DataFile(ShippedModels.VqganConfigFileName), vqgan.Value.Config);
        var transformer = ShippedModels.FindTransformer();
        Assert.NotNull(transformer);
        Assert.Equal(DataFile(ShippedModels.TransformerFileName), transformer.Value.Checkpoint);
        const long MB = 1000L * 1000;
        var files = new DirectoryInfo(Path.Combine(TestSetup.RepoRoot, "data")).EnumerateFiles("*", SearchOption.AllDirectories).ToList();
        long total = files.Sum(f => f.Length);
        Assert.True(total < 60 * MB, $"data/ holds {total / (double)MB:F1} MB; the budget is 60 MB in all");
        // One tracked file stays under the repository's 20 MB limit.
        foreach (var file in files)
            Assert.True(file.Length < 20 * MB, $"data/{file.Name} is {file.Length / (double)MB:F1} MB; one file may hold at most 20 MB");
        // The transformer's budget (its issue: under 25 MB for what it ships): the GPT and its YAML, plus its first stage,
        // the shipped VQGAN that the other generators use too.
        long transformerBytes = files.Where(f => f.Name.StartsWith("clipart-transformer.", StringComparison.Ordinal)
                                                 || f.Name == ShippedModels.VqganFileName).Sum(f => f.Length);
        Assert.True(transformerBytes < 25 * MB, $"the transformer's files hold {transformerBytes / (double)MB:F1} MB; its budget is 25 MB");
    }

    [Fact]
    public void TheBigGanLoadsWithItsConfigAndClassNamesAndStaysUnderItsBudget()
    {
        var path = ShippedModels.FindBigGan();
        Assert.Equal(DataFile(ShippedModels.BigGanFileName), path);
        Assert.True(new FileInfo(path!).Length < 10 * 1000L * 1000, "the clipart BigGAN's budget is 10 MB");
        using var model = VqganClip.Models.BigGan.BigGanModel.Load(path!);
        Assert.Equal(32, model.ImageSize);   // G at 32x32 (--resolution 32); the judge and CLIP read it enlarged
        Assert.Equal(120, model.Config.NumClasses);
        var names = ClassNames.For(path!, model.Config.NumClasses);
        Assert.NotNull(names);
        Assert.Equal("red circle", names!.Names[0]);
        // the standing statistics were accumulated: the table is not the fresh model's zeros and ones
        Assert.False(model.state_dict().Where(kv => kv.Key.EndsWith("running_vars", StringComparison.Ordinal))
            .All(kv => kv.Value.eq(1).all().item<bool>()), "every standing variance is 1: the statistics were never accumulated");
    }

    [Fact]
    public void TheBigGanDrawsTheColourAndMoreOftenTheKindOfTheClassItIsAskedForOnFourBackgrounds()
    {
        using var model = VqganClip.Models.BigGan.BigGanModel.Load(ShippedModels.FindBigGan()!);
        var judge = new VqganClip.Clipart.Judge.SceneJudge(VqganClip.Clipart.Judge.ObjectClassifier.LoadDefault());
        // 120 samples, one per class; the card's figures are on 1,200. A generator that ignores the class gets the colour
        // right about one time in ten (the session-12 model: 12%). The kind: the session-20 model, which drew the colour
        // but not the kind, was judged right (kind and colour) on 10.8% of these 120 samples; the session-21 file on
        // 23.3% (colour 87.5%); session 28's 64-px file on 24.2% (colour 100%); session 43's 32-px run at 11,000 steps
        // on 41.7% (colour 95%); this file (the same run at 17,000 steps) on 54.2% (colour 95.8%).
        var r = VqganClip.Training.BigGan.BigGanClassAccuracy.Run(model, 120, 0.5, judge);
        Assert.True(r.ColourAccuracy > 0.9, $"colour and presence right in {r.ColourAccuracy:P1} of 120 samples");
        Assert.True(r.Accuracy > 0.4, $"class (kind and colour) right in {r.Accuracy:P1} of 120 samples");
        Assert.Equal(120, r.Coverage.Count);
        Assert.Equal(120, r.Coverage.Backgrounds.Sum());
        // the scene tie's point: the world's backgrounds on 5% of the samples or more. This file draws four (white, sky,
        // grass, sand: 15-35% each) and never night, which its run lost when the kind terms began (data/README.md); the
        // 64-px file before it drew all five, the session-21 file never drew night or grass.
        Assert.True(r.Coverage.BackgroundsAbove() >= 4, $"backgrounds drawn: {string.Join(", ", r.Coverage.Backgrounds)}");
    }

    [Fact]
    public void ThePix2PixLoadsAsUpstreamsUnetAndBeatsTheMeanPictureOnHeldOutOutlines()
    {
        var path = ShippedModels.FindPix2Pix();
        Assert.Equal(DataFile(ShippedModels.Pix2PixFileName), path);
        Assert.True(new FileInfo(path!).Length < 5 * 1000L * 1000, "the clipart pix2pix's budget is 5 MB");
        Assert.Contains("model.model.0.weight", HeaderKeys(path!));
        using var g = VqganClip.Models.Pix2Pix.UnetGenerator.Load(path!);
        Assert.Equal(new VqganClip.Models.Pix2Pix.UnetConfig(3, 3, 6, 12), g.Config);
        Assert.Equal(64, g.ImageSize);
        // data/README.md: held-out L1 0.488 against the mean picture's 0.526, on the same 500 scenes (the first 100 alone
        // are harder: 0.506 against 0.511).
        var r = VqganClip.Training.Pix2Pix.Pix2PixHeldOutEval.Run(g, 500, threads: 1);
        Assert.True(r.L1 < r.L1MeanImage - 0.005, $"held-out L1 {r.L1:0.000} is not below the mean picture's {r.L1MeanImage:0.000}");
        Assert.True(r.L1 < r.L1Outline - 0.2, $"held-out L1 {r.L1:0.000} against the outline's {r.L1Outline:0.000}");
    }

    [Fact]
    public void TheStyleGanLoadsAsRosinalitysGeneratorAndDrawsPaletteColoursUnlikeAnUntrainedOne()
    {
        var path = ShippedModels.FindStyleGan();
        Assert.Equal(DataFile(ShippedModels.StyleGanFileName), path);
        Assert.True(new FileInfo(path!).Length < 7 * 1000L * 1000, "the clipart StyleGAN2's budget is 7 MB");
        Assert.Contains("conv1.conv.weight", HeaderKeys(path!));   // g_ema's names, bare
        Assert.Contains("latent_avg", HeaderKeys(path!));
        using var g = VqganClip.Models.StyleGan2.StyleGan2Model.Load(path!);
        Assert.Equal(64, g.ImageSize);
        Assert.Equal(new[] { 128, 128, 64, 32, 16 }, g.Config.Channels);
        Assert.NotNull(g.LatentAvg);
        using var untrained = new VqganClip.Models.StyleGan2.StyleGan2Model(g.Config);
        // data/README.md: 39.2% of 500 samples are valid scenes (SceneReader); its first 64 here, against an untrained
        // generator of the same shape, which draws none.
        var judge = new VqganClip.Clipart.Judge.SceneJudge(VqganClip.Clipart.Judge.ObjectClassifier.LoadDefault());
        var trained = VqganClip.Training.StyleGan2.StyleGan2SampleEval.Run(g, 64, judge);
        var random = VqganClip.Training.StyleGan2.StyleGan2SampleEval.Run(untrained, 64, judge);
        Assert.Equal(0, random.ValidRate);
        Assert.True(trained.ValidRate >= 0.08, $"only {trained.ValidRate:P0} of 64 samples are valid scenes");
    }

    [Fact]
    public void TheTransformersFirstStageIsTheShippedVqganNamedByItsYaml()
    {
        var yaml = File.ReadAllText(DataFile(ShippedModels.TransformerConfigFileName));
        Assert.Contains($"ckpt_path: {ShippedModels.VqganFileName}", yaml);
        Assert.DoesNotContain(HeaderKeys(DataFile(ShippedModels.TransformerFileName)), k => k.StartsWith("first_stage_model.", StringComparison.Ordinal));
        using var transformer = Net2NetTransformer.Load(DataFile(ShippedModels.TransformerFileName));
        using var vqgan = VqganModel.Load(DataFile(ShippedModels.VqganFileName));
        Assert.Equal(4, transformer.FirstStage.DownsamplingFactor);
        Assert.Equal(transformer.Config.FirstStage.NEmbed, vqgan.Config.NEmbed);
        // a 64x64 scene is 16x16 codes after the 24-token caption: the GPT's block
        Assert.Equal(24 + 16 * 16, transformer.Config.Gpt.BlockSize);
        // the transformer's first stage holds exactly the plain VQGAN's weights
        var loaded = transformer.FirstStage.state_dict();
        foreach (var (name, tensor) in vqgan.state_dict())
            Assert.True(tensor.shape.SequenceEqual(loaded[name].shape) && tensor.eq(loaded[name]).all().item<bool>(), $"first stage tensor {name} differs from {ShippedModels.VqganFileName}");
    }

    [Fact]
    public void TheTransformerPredictsHeldOutScenesCodesAsItsCardSays()
    {
        // data/README.md: it trained on one-object scenes with a big object drawn canonically in the middle (drawn_at:
        // middle; the middle's exact spot and size, upright), so the codes of such a scene it knows almost token for
        // token. Here the first 32 held-out one-object big scenes in the middle, drawn canonically (card: 0.014), against
        // the same GPT untrained (about ln 576 = 6.4 nats, its vocabulary). The world's own scenes (other places, small
        // things, pairs, the sampler's jitter) it was not trained to draw: 5.86 on 1,000 (card), the jittered middle ones
        // among these 32 3.65.
        using var transformer = Net2NetTransformer.Load(DataFile(ShippedModels.TransformerFileName));
        Assert.Equal(CaptionPlacement.Middle, transformer.Config.Conditioning.CaptionPlacement);
        var (specs, captions) = ClipartBatches.HeldOut(1000);
        var middle = Enumerable.Range(0, specs.Length)
            .Where(i => specs[i].Objects is [{ Size: ObjectSize.Big, Position: ScenePosition.Middle }]).Take(32).ToArray();
        Assert.Equal(32, middle.Length);
        var jittered = middle.Select(i => specs[i]).ToList();
        var canonical = jittered.Select(s => s.Canonical()).ToList();
        var middleCaptions = middle.Select(i => captions[i]).ToList();

        double CrossEntropy(Net2NetTransformer model, List<SceneSpec> scenes)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var _ = TorchSharp.torch.no_grad();
            var (logits, target) = TransformerHeldOutEval.Forward(model, scenes, middleCaptions);
            return TorchSharp.torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), target.reshape(-1)).item<float>();
        }
        double known = CrossEntropy(transformer, canonical);
        Assert.True(known < 0.05, $"token cross-entropy {known:F4} on 32 held-out one-object big scenes drawn canonically in the middle (card: 0.014)");
        double jitter = CrossEntropy(transformer, jittered);
        // the same scenes as the world draws them, each a little moved, resized and turned: other codes, far less known
        Assert.True(jitter > 2.5, $"token cross-entropy {jitter:F3} on the same scenes with the world's jitter (card: 3.65)");
        using var untrained = new Net2NetTransformer(transformer.Config, VqganModel.Load(DataFile(ShippedModels.VqganFileName)),
            new Gpt(transformer.Config.Gpt, new TorchSharp.torch.Generator(1)), captionStage: (CaptionConditioning)transformer.CondStage);
        Assert.True(CrossEntropy(untrained, canonical) > 5, "an untrained GPT should not predict the codes");
    }

    [Fact]
    public void TheClipHasOpenAiKeyNamesAndLoadsAsTheClipartArchitecture()
    {
        var path = DataFile(ShippedModels.ClipFileName);
        var keys = HeaderKeys(path);
        foreach (var k in new[] { "visual.conv1.weight", "visual.class_embedding", "visual.proj", "token_embedding.weight",
                     "positional_embedding", "text_projection", "logit_scale", "ln_final.weight",
                     "transformer.resblocks.0.attn.in_proj_weight", "visual.transformer.resblocks.0.mlp.c_fc.weight" })
            Assert.Contains(k, keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("vision_model.", StringComparison.Ordinal) || k.StartsWith("text_model.", StringComparison.Ordinal));

        using var clip = ClipModel.Load(path);
        var expected = ClipartClipArchitecture.Default;
        Assert.Equal(expected.ImageResolution, clip.ImageSize);
        Assert.Equal(expected.EmbedDim, clip.EmbedDim);
        Assert.Equal(expected.ContextLength, clip.ContextLength);
        Assert.Equal(expected.VisionPatchSize, clip.Config.VisionPatchSize);
        Assert.Equal(expected.VisionLayers, clip.Config.VisionLayers);
        Assert.Equal(expected.TransformerLayers, clip.Config.TransformerLayers);
        Assert.All(clip.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void TheClipPicksEachHeldOutScenesOwnCaption()
    {
        using var clip = ClipModel.Load(DataFile(ShippedModels.ClipFileName));
        // 200 held-out scenes in groups of 100 (the model card's figure uses 1,000); chance is 1%.
        var r = RetrievalEval.Run(clip, count: 200, groupSize: 100);
        Assert.True(r.ImageToTextTop1 >= 0.85, $"image->caption top-1 {r.ImageToTextTop1:P1} on 200 held-out scenes");
        Assert.True(r.ImageToTextTop5 >= 0.97, $"top-5 {r.ImageToTextTop5:P1}");
    }

    [Fact]
    public void TheVqganHasTamingKeyNamesAndItsYamlDescribesIt()
    {
        var path = DataFile(ShippedModels.VqganFileName);
        var keys = HeaderKeys(path);
        foreach (var k in new[] { "encoder.conv_in.weight", "decoder.conv_out.weight", "quantize.embedding.weight",
                     "quant_conv.weight", "post_quant_conv.weight", "decoder.mid.attn_1.q.weight" })
            Assert.Contains(k, keys);
        // TorchSharp registers a module under both its field name and its registered name unless they agree:
        // the exported file must hold taming's names only.
        Assert.DoesNotContain(keys, k => k.Contains(".shortcut.", StringComparison.Ordinal));

        using var fromYaml = VqganModel.Load(path, DataFile(ShippedModels.VqganConfigFileName));
        using var inferred = VqganModel.Load(path);
        Assert.Equal(fromYaml.Config.NEmbed, inferred.Config.NEmbed);
        Assert.Equal(fromYaml.Config.EmbedDim, inferred.Config.EmbedDim);
        Assert.Equal(4, fromYaml.DownsamplingFactor);
        Assert.All(fromYaml.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void TheVqganReconstructsHeldOutScenes()
    {
        using var vqgan = VqganModel.Load(DataFile(ShippedModels.VqganFileName), DataFile(ShippedModels.VqganConfigFileName));
        var r = ReconstructionEval.Run(vqgan, count: 100);
        // model card: 31.33 dB mean (29.99 pooled) on 1,000 scenes; stage 2's decoder, before recipes/vqgan-3-decoder.rsp, gave 28.96
        Assert.True(r.MeanPsnr >= 30.3, $"mean PSNR {r.MeanPsnr:F2} dB on 100 held-out scenes");
        Assert.True(r.CodesUsed >= r.CodebookSize / 2, $"{r.CodesUsed}/{r.CodebookSize} codes used");
    }

    [Fact]
    public void TheReconstructionGeneratorIsTheDrawingThroughTheVqgan()
    {
        using var vqgan = VqganModel.Load(DataFile(ShippedModels.VqganFileName), DataFile(ShippedModels.VqganConfigFileName));
        var reconstruct = VqganClip.Clipart.Eval.Evaluator.ReconstructReference(vqgan);
        const string prompt = "a yellow star above a blue house at night";
        using var drawing = VqganClip.Clipart.Eval.Evaluator.RenderReference(prompt);
        using var picture = reconstruct(prompt);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, picture.shape);
        Assert.InRange(picture.min().item<float>(), 0f, 1f);
        Assert.InRange(picture.max().item<float>(), 0f, 1f);
        // close to the drawing (about 24 dB for this night scene with a small star; 29 dB on average over held-out
        // scenes, see the model card) but decoded, not copied
        using var error = (picture - drawing.unsqueeze(0)).pow(2).mean();
        double psnr = -10 * Math.Log10(error.item<float>());
        Assert.InRange(psnr, 20, 45);
    }

    [Fact]
    public void AFlatStartIsABlankWhiteCanvasAndRandomCodesAreNot()
    {
        using var vqgan = VqganModel.Load(DataFile(ShippedModels.VqganFileName), DataFile(ShippedModels.VqganConfigFileName));
        using var flat = new VqganClip.Guidance.Generators.VqganLatentGenerator(vqgan, 64, 64, VqganClip.Guidance.Generators.LatentInit.Flat);
        using (var rng = new TorchSharp.torch.Generator(1)) flat.Initialize(rng);
        using var picture = flat.Render().detach();
        Assert.True(picture.mean().item<float>() > 0.97f, $"flat start has mean {picture.mean().item<float>():F3}, not white");
        Assert.True(picture.std().item<float>() < 0.03f, $"flat start has pixel std {picture.std().item<float>():F3}");
        using var codes = new VqganClip.Guidance.Generators.VqganLatentGenerator(vqgan, 64, 64);
        using (var rng = new TorchSharp.torch.Generator(1)) codes.Initialize(rng);
        using var mosaic = codes.Render().detach();
        Assert.True(mosaic.std().item<float>() > 0.1f, $"random codes have pixel std {mosaic.std().item<float>():F3}");
    }

    [Fact]
    public void TwentyDefaultStepsOnTheShippedModelsLowerTheLoss()
    {
        using var clip = ClipModel.Load(DataFile(ShippedModels.ClipFileName));
        using var vqgan = VqganModel.Load(DataFile(ShippedModels.VqganFileName), DataFile(ShippedModels.VqganConfigFileName));
        var recipe = RunRecipe.Default with { Prompt = "a red star above a blue house", Seed = 3, Steps = 20 };
        using var run = recipe.CreateRun(clip, vqgan);
        Assert.Equal((64, 64), (run.Generator.Width, run.Generator.Height));   // the default size follows the shipped CLIP
        var before = run.Evaluate(cutCount: 32, seed: 11).Total;
        run.Step(20);
        var after = run.Evaluate(cutCount: 32, seed: 11).Total;
        Assert.True(after < before - 0.05, $"loss on fixed cutouts {before:F4} -> {after:F4} after 20 steps");
    }

    [Fact]
    public void GenerateWithNoModelOptionsWritesAPictureNamedAfterThePromptAndNeverOverwrites()
    {
        var cwd = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = _dir;
            var (code, output) = Generate("a red star above a blue house", "--steps", "20", "--seed", "1");
            Assert.True(code == 0, output);
            var first = Path.Combine(_dir, "a-red-star-above-a-blue-house.png");
            Assert.True(File.Exists(first), output);
            Assert.Contains(first, output);
            using (var image = ImageIO.Load(first)) Assert.Equal(new long[] { 1, 3, 64, 64 }, image.shape);
            var line = output.Split('\n').Single(l => l.StartsWith("Loss ", StringComparison.Ordinal));
            Assert.Matches(@"^Loss [0-9.]+ at step 0 -> [0-9.]+ at step 19", line.Trim());

            var bytes = File.ReadAllBytes(first);
            (code, _) = Generate("a red star above a blue house", "--steps", "1", "--seed", "2");
            Assert.Equal(0, code);
            Assert.Equal(bytes, File.ReadAllBytes(first));                                   // the first picture is kept
            Assert.True(File.Exists(Path.Combine(_dir, "a-red-star-above-a-blue-house-2.png")));
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
    }

    private static (int Code, string Output) Generate(params string[] args) => Cli(GenerateCommand.Create, "generate", args);

    private static (int Code, string Output) Cli(Func<IAnsiConsole?, Command> create, string name, params string[] args)
    {
        var (console, output) = CliTestConsole.Create(400);
        var root = new RootCommand("test") { create(console) };
        int code = CliApp.Run(root, new[] { name }.Concat(args).ToArray(), console);
        return (code, output.ToString());
    }

    [Fact]
    public void EvalGeneratesWithTheShippedModelsAndJudgesEachPrompt()
    {
        var prompts = Path.Combine(_dir, "prompts.txt");
        File.WriteAllLines(prompts, new[] { "# two prompts", "a big red circle on the left", "a yellow star above a blue house" });
        var images = Path.Combine(_dir, "eval-images");
        var (code, output) = Cli(EvalCommand.Create, "eval", "--prompts", prompts, "--steps", "3", "--images", images);
        Assert.True(code == 0, output);
        Assert.Contains("Generator vqgan: 3 steps", output);
        Assert.Matches(@"(ok  |FAIL) a big red circle on the left", output);
        Assert.Matches(@"(ok  |FAIL) a yellow star above a blue house", output);
        Assert.Matches(@"Satisfied [0-2]/2 \(", output);
        Assert.Equal(2, Directory.GetFiles(images, "*.png").Length);

        // --size draws at another size (the judge reads every picture at 64x64); a bad size is named
        var sized = Path.Combine(_dir, "sized-images");
        (code, output) = Cli(EvalCommand.Create, "eval", "--prompts", prompts, "--limit", "1", "--steps", "1", "--size", "48", "--images", sized);
        Assert.True(code == 0, output);
        Assert.True(System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ").Contains("seed 0, 48x48"), output);   // the console wraps long lines
        using (var reopened = ImageIO.Load(Directory.GetFiles(sized, "*.png").Single()))
            Assert.Equal(new long[] { 1, 3, 48, 48 }, reopened.shape);
        (code, output) = Cli(EvalCommand.Create, "eval", "--prompts", prompts, "--limit", "1", "--steps", "1", "--size", "48y");
        Assert.NotEqual(0, code);
        Assert.Contains("48y", output);

        // the reference drawings are the judge's ceiling: all satisfied (and saved like any generator's pictures)
        var references = Path.Combine(_dir, "reference-images");
        (code, output) = Cli(EvalCommand.Create, "eval", "--prompts", prompts, "--generator", "reference", "--images", references);
        Assert.True(code == 0, output);
        Assert.Contains("Satisfied 2/2 (100", output);
        var saved = Directory.GetFiles(references, "*.png").Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(new[] { "01-a-big-red-circle-on-the-left.png", "02-a-yellow-star-above-a-blue-house.png" }, saved);
        using (var reopened = ImageIO.Load(Path.Combine(references, saved[0]!)))
            Assert.Equal(new long[] { 1, 3, 64, 64 }, reopened.shape);

        // the same drawings through the VQGAN (its ceiling), named as such
        (code, output) = Cli(EvalCommand.Create, "eval", "--prompts", prompts, "--generator", "reconstruction");
        Assert.True(code == 0, output);
        Assert.Matches(@"Satisfied [0-2]/2 \([^)]*\) with the reconstruction generator", System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));
        Assert.DoesNotContain("Generator reconstruction:", output);   // no guidance settings to describe

        File.WriteAllLines(prompts, new[] { "a red circle on the left", "a purple dragon" });
        (code, output) = Cli(EvalCommand.Create, "eval", "--prompts", prompts, "--generator", "reference");
        Assert.NotEqual(0, code);
        Assert.Contains("dragon", output);
    }

    [Theory]
    [InlineData("A big RED circle, on the left!", "a-big-red-circle-on-the-left.png")]
    [InlineData("  ^^^ ", "output.png")]
    public void TheDefaultOutputNameIsThePromptsWords(string prompt, string expected)
    {
        Assert.Equal(Path.Combine(_dir, expected), GenerateCommand.DefaultOutput(prompt, _dir));
    }
}
