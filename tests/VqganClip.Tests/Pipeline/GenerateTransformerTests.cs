using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Guidance;
using VqganClip.Models.Images;
using VqganClip.Tests.Guidance;

namespace VqganClip.Tests.Pipeline;

/// <summary><c>generate --generator transformer</c>: the options parse and reach the pipeline, the PNG records the run, bad input is one red line.</summary>
public sealed class GenerateTransformerTests : IClassFixture<PipelineModels>, IDisposable
{
    private readonly PipelineModels _m;
    private readonly string _dir = Directory.CreateTempSubdirectory("vqgan-clip-transformer").FullName;

    public GenerateTransformerTests(PipelineModels models) => _m = models;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) Generate(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(400);
        var root = new RootCommand("test") { GenerateCommand.Create(console) };
        int code = CliApp.Run(root, new[] { "generate" }.Concat(args).ToArray(), console);
        // long lines wrap at the console's width (at spaces): one line of text to search
        return (code, output.ToString().ReplaceLineEndings(" "));
    }

    private string[] Cin(params string[] more) => new[]
    {
        "--generator", "transformer", "--transformer", _m.Checkpoint, "--transformer-config", _m.Config, "--clip", TinyModels.ClipPath,
    }.Concat(more).ToArray();

    [Fact]
    public void The_options_reach_the_pipeline_and_the_png_records_a_command_that_reproduces_it()
    {
        var outPath = Path.Combine(_dir, "cat.png");
        var (code, text) = Generate(new[] { "a photo of a cat.|a photo of a dog.:-0.5" }.Concat(Cin(
            "--class-names", _m.NamesFile, "--samples", "3", "--temperature", "0.9", "--top-k", "20", "--top-p", "0.95",
            "--refine", "2", "--anchor-weight", "0.3", "--cutn", "2", "--seed", "5", "--out", outPath)).ToArray());
        Assert.True(code == 0, text);
        Assert.Contains("Seed 5, transformer 32x32 (8x8 tokens), 3 samples, temperature 0.9, top-k 20, top-p 0.95, refine 2 (anchor 0.3).", text);
        Assert.Contains("Transformer cin-tiny.safetensors: class label (10 classes) (10 names from " + _m.NamesFile + ")", text);
        Assert.Matches(@"Conditioning: class \d '[a-z]+' \(chosen by CLIP zero-shot\)\.", text);
        Assert.Contains("Ranked 3 samples", text);
        Assert.Contains("Refined sample", text);
        Assert.Contains("Image: " + outPath, text);

        var chunks = ImageIO.ReadPngText(outPath);
        Assert.Equal("transformer", chunks["generator"]);
        Assert.Equal("a photo of a cat.|a photo of a dog.:-0.5", chunks["prompt"]);
        Assert.Equal("5", chunks["seed"]);
        Assert.Equal("32x32", chunks["size"]);
        Assert.Equal("8x8", chunks["grid"]);
        Assert.Equal("cin-tiny.safetensors", chunks["transformer"]);
        Assert.Equal("cin-tiny-project.yaml", chunks["transformer_config"]);
        int chosen = int.Parse(chunks["class"]);
        Assert.Equal($"class {chosen} '{PipelineModels.Names[chosen]}' (chosen by CLIP zero-shot)", chunks["conditioning"]);
        Assert.Contains($"Conditioning: {chunks["conditioning"]}.", text);
        Assert.Equal("2", chunks["step"]);
        var settings = JsonNode.Parse(chunks["transformer_settings"])!;
        Assert.Equal(3, settings["Samples"]!.GetValue<int>());
        Assert.Equal(0.9, settings["Temperature"]!.GetValue<double>());
        Assert.Equal(20, settings["TopK"]!.GetValue<int>());
        Assert.Equal(0.95, settings["TopP"]!.GetValue<double>());
        Assert.Equal(2, settings["RefineSteps"]!.GetValue<int>());
        Assert.Equal(0.3, settings["AnchorWeight"]!.GetValue<double>());
        Assert.Equal(3, JsonNode.Parse(chunks["candidates"])!.AsArray().Count);
        Assert.Contains("\"InitWeight\":0.3", chunks["options"]);
        Assert.Contains("\"CutCount\":2", chunks["options"]);
        Assert.StartsWith("vqgan-clip generate \"a photo of a cat.|a photo of a dog.:-0.5\" --generator transformer --transformer ", chunks["command"]);
        foreach (var part in new[] { "--samples 3", "--temperature 0.9", "--top-k 20", "--top-p 0.95", "--refine 2", "--anchor-weight 0.3", "--cutn 2", "--seed 5", "--size 32x32" })
            Assert.Contains(part, chunks["command"]);

        // the recorded command (with the CLIP, which generate's command leaves to the default, and another output) makes the same picture
        var again = Path.Combine(_dir, "again.png");
        var args = SplitCommand(chunks["command"]).Skip(2).Concat(new[] { "--clip", TinyModels.ClipPath, "--out", again }).ToArray();
        (code, text) = Generate(args);
        Assert.True(code == 0, text);
        Assert.Equal(ImageIO.Load(outPath).data<float>().ToArray(), ImageIO.Load(again).data<float>().ToArray());
    }

    [Fact]
    public void A_relation_prompt_is_sampled_by_halves_and_the_png_records_the_halves_and_a_command_that_reproduces_it()
    {
        var outPath = Path.Combine(_dir, "halves.png");
        string[] caption = ["--generator", "transformer", "--transformer", _m.CaptionCheckpoint, "--clip", TinyModels.ClipPath, "--samples", "2", "--seed", "3"];
        var (code, text) = Generate(["a star above a blue circle", .. caption, "--regional-picks", "2", "--regional-join", "tokens", "--regional-shift", "2", "--regional-backdrop", "0.2", "--out", outPath]);
        Assert.True(code == 0, text);
        const string conditioning = "caption 'a star above a blue circle', by halves (upper: 'a star at the top'; lower: 'a blue circle at the bottom')";
        Assert.Contains($"Conditioning: {conditioning}.", text);
        Assert.Contains("Half 1, 'a star at the top': ranked 2 samples, best ", text);
        Assert.Contains("Half 2, 'a blue circle at the bottom': ranked 2 samples, best ", text);
        Assert.Contains("Ranked 4 joins of the halves' best (", text);
        var chunks = ImageIO.ReadPngText(outPath);
        Assert.Equal(conditioning, chunks["conditioning"]);
        Assert.Equal(4, JsonNode.Parse(chunks["candidates"])!.AsArray().Count);
        Assert.Contains("--regional-picks 2 --regional-join tokens --regional-shift 2 --regional-backdrop 0.2", chunks["command"]);
        var again = Path.Combine(_dir, "halves-again.png");
        (code, text) = Generate([.. SplitCommand(chunks["command"]).Skip(2), "--clip", TinyModels.ClipPath, "--out", again]);
        Assert.True(code == 0, text);
        Assert.Equal(ImageIO.Load(outPath).data<float>().ToArray(), ImageIO.Load(again).data<float>().ToArray());

        // moved from the middle: the PNG says so, and its command (--placement move) draws the same picture again
        var moved = Path.Combine(_dir, "moved.png");
        (code, text) = Generate(["a star on the left", .. caption, "--placement", "move", "--out", moved]);
        Assert.True(code == 0, text);
        chunks = ImageIO.ReadPngText(moved);
        Assert.Equal("caption 'a star on the left', drawn as 'a star in the middle' and moved to (0.25, 0.5)", chunks["conditioning"]);
        Assert.Contains(" --placement move ", chunks["command"]);
        var movedAgain = Path.Combine(_dir, "moved-again.png");
        (code, text) = Generate([.. SplitCommand(chunks["command"]).Skip(2), "--clip", TinyModels.ClipPath, "--out", movedAgain]);
        Assert.True(code == 0, text);
        Assert.Equal(ImageIO.Load(moved).data<float>().ToArray(), ImageIO.Load(movedAgain).data<float>().ToArray());

        var whole = Path.Combine(_dir, "whole.png");
        (code, text) = Generate(["a star above a blue circle", .. caption, "--regional", "false", "--out", whole]);
        Assert.True(code == 0, text);
        Assert.Contains("Conditioning: caption 'a star above a blue circle'.", text);
        Assert.Contains("Ranked 2 samples", text);
        Assert.Contains("--regional false", ImageIO.ReadPngText(whole)["command"]);
    }

    [Fact]
    public void A_given_class_and_an_unconditional_model_reach_the_pipeline()
    {
        var outPath = Path.Combine(_dir, "given.png");
        var (code, text) = Generate(new[] { "a photo of a cat." }.Concat(Cin("--class", "7", "--samples", "2", "--seed", "1", "--out", outPath)).ToArray());
        Assert.True(code == 0, text);
        Assert.Contains("Conditioning: class 7 (given).", text);
        Assert.Contains("--class 7", ImageIO.ReadPngText(outPath)["command"]);

        var uncond = Path.Combine(_dir, "uncond.png");
        (code, text) = Generate("a photo of a cat.", "--generator", "transformer", "--transformer", _m.UnconditionalCheckpoint, "--transformer-config", _m.UnconditionalConfig,
            "--clip", TinyModels.ClipPath, "--samples", "2", "--seed", "1", "--size", "48x40", "--out", uncond);
        Assert.True(code == 0, text);
        Assert.Contains("Conditioning: unconditional (SOS token 5).", text);
        Assert.Contains("transformer 48x40 (10x12 tokens, sliding window 8)", text);
        Assert.Equal("10x12 (sliding window 8)", ImageIO.ReadPngText(uncond)["grid"]);

        // a caption model (its YAML found beside it) reads the prompt's text; words it does not know are named
        var caption = Path.Combine(_dir, "caption.png");
        (code, text) = Generate("a red star on the left|a purple star", "--generator", "transformer", "--transformer", _m.CaptionCheckpoint,
            "--clip", TinyModels.ClipPath, "--samples", "2", "--seed", "1", "--out", caption);
        Assert.True(code == 0, text);
        Assert.Contains("Conditioning: caption 'a red star on the left'.", text);
        Assert.Equal("a red star on the left", ImageIO.ReadPngText(caption)["caption"]);
        (code, text) = Generate("a green star", "--generator", "transformer", "--transformer", _m.CaptionCheckpoint,
            "--clip", TinyModels.ClipPath, "--samples", "1", "--seed", "1", "--out", Path.Combine(_dir, "green.png"));
        Assert.True(code == 0, text);
        Assert.Contains("warning: The transformer's caption stage does not know 'green': those words condition on nothing.", text);
    }

    [Theory]
    [InlineData("missing", "error: Transformer checkpoint '")]
    [InlineData("vqgan", "is a VQGAN (first-stage) checkpoint, not a transformer: give it as --vqgan with --generator vqgan")]
    [InlineData("top-k", "error: TopK must be a positive number of tokens; got 0.")]
    [InlineData("top-p", "error: TopP must lie in (0, 1]; got 1.5.")]
    [InlineData("top-p-zero", "error: TopP must lie in (0, 1]; got 0.")]
    [InlineData("class", "error: ClassId 12 is outside the model's classes: it knows 10 (ids 0 to 9).")]
    [InlineData("class-unconditional", "error: ClassId (1) applies to class-conditional transformers; this one is unconditional")]
    [InlineData("class-caption", "error: ClassId (1) applies to class-conditional transformers; this one is conditioned on captions")]
    [InlineData("names-unconditional", "error: ClassNamesFile applies to class-conditional transformers; 'uncond-tiny.safetensors' is unconditional")]
    [InlineData("no-names", "error: The transformer is class-conditional (10 classes) but its classes have no names, so CLIP cannot choose one: set ClassId")]
    [InlineData("run-dir", "error: --run-dir and --save-every belong to the guided loop")]
    [InlineData("init-weight", "error: InitWeight (0.5) does not apply to the transformer generator")]
    [InlineData("regional-join", "error: --regional-join must be pictures or tokens; got 'seams'.")]
    [InlineData("regional-backdrop", "error: --regional-backdrop must be a mean pixel difference between 0 and 1, or off; got '1.5'.")]
    [InlineData("small-scale", "error: SmallScale must lie in (0, 1] (1: leave small things as drawn); got 2.")]
    [InlineData("placement", "error: --placement must be model, move or caption; got 'left'.")]
    public void Bad_input_is_one_error_line(string what, string expected)
    {
        var outPath = Path.Combine(_dir, what + ".png");
        string[] args = what switch
        {
            "missing" => ["--generator", "transformer", "--transformer", Path.Combine(_dir, "nope.ckpt"), "--clip", TinyModels.ClipPath],
            "vqgan" => ["--generator", "transformer", "--transformer", TinyModels.VqganPath, "--clip", TinyModels.ClipPath],
            "top-k" => Cin("--top-k", "0"),
            "top-p" => Cin("--top-p", "1.5"),
            "top-p-zero" => Cin("--top-p", "0"),
            "class" => Cin("--class", "12"),
            "class-unconditional" => ["--generator", "transformer", "--transformer", _m.UnconditionalCheckpoint, "--transformer-config", _m.UnconditionalConfig, "--clip", TinyModels.ClipPath, "--class", "1"],
            "class-caption" => ["--generator", "transformer", "--transformer", _m.CaptionCheckpoint, "--clip", TinyModels.ClipPath, "--class", "1"],
            "names-unconditional" => ["--generator", "transformer", "--transformer", _m.UnconditionalCheckpoint, "--transformer-config", _m.UnconditionalConfig, "--clip", TinyModels.ClipPath, "--class-names", _m.NamesFile],
            "no-names" => Cin(),
            "run-dir" => Cin("--class", "1", "--run-dir", Path.Combine(_dir, "x.run")),
            "regional-join" => Cin("--class", "1", "--regional-join", "seams"),
            "regional-backdrop" => Cin("--class", "1", "--regional-backdrop", "1.5"),
            "small-scale" => Cin("--class", "1", "--small-scale", "2"),
            "placement" => Cin("--class", "1", "--placement", "left"),
            _ => Cin("--class", "1", "--init-weight", "0.5"),
        };
        var (code, text) = Generate(new[] { "a photo of a cat." }.Concat(args).Concat(new[] { "--samples", "1", "--out", outPath }).ToArray());
        Assert.Equal(UserErrors.UserError, code);
        Assert.Contains(expected, text);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "error:"));
        Assert.DoesNotContain("   at ", text);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void Defaults_come_from_TransformerSettings_and_the_default_generator_from_the_recipe()
    {
        var recipe = new RecipeOptions();
        var command = new Command("x");
        recipe.AddTo(command);
        var parse = command.Parse([]);
        var read = recipe.Read(parse);
        Assert.Equal(TransformerSettings.Default, read.Transformer);
        Assert.Equal(RunRecipe.DefaultGenerator(shippedModelsOnly: true), read.Generator);

        var given = recipe.Read(command.Parse(["--generator", "transformer", "--samples", "4", "--temperature", "0.7", "--top-k", "9", "--top-p", "0.8",
            "--refine", "6", "--anchor-weight", "2", "--class", "3", "--transformer", "t.ckpt", "--transformer-config", "t.yaml", "--class-names", "n.txt",
            "--regional", "false", "--regional-picks", "2", "--regional-shift", "0", "--regional-join", "Tokens", "--regional-backdrop", "OFF", "--small-scale", "0.5", "--placement", "Move"]));
        Assert.True(given.IsTransformer);
        Assert.Equal(TransformerSettings.Default with
        {
            Samples = 4, Temperature = 0.7, TopK = 9, TopP = 0.8, RefineSteps = 6, AnchorWeight = 2, ClassId = 3, Regional = false, RegionalPicks = 2, RegionalShift = 0,
            RegionalJoin = RegionalJoin.Tokens, RegionalBackdrop = null, SmallScale = 0.5, Placement = SamplePlacement.Move,
            Checkpoint = "t.ckpt", Config = "t.yaml", ClassNamesFile = "n.txt",
        }, given.Transformer);
    }

    /// <summary>Splits a recorded command line: words, and "..." with backslash escapes (what generate's Quote writes).</summary>
    private static List<string> SplitCommand(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < command.Length; i++)
        {
            char c = command[i];
            if (quoted)
            {
                if (c == '\\' && i + 1 < command.Length) word.Append(command[++i]);
                else if (c == '"') quoted = false;
                else word.Append(c);
            }
            else if (c == '"') { quoted = true; any = true; }
            else if (c == ' ')
            {
                if (any || word.Length > 0) words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else word.Append(c);
        }
        if (any || word.Length > 0) words.Add(word.ToString());
        return words;
    }

    [Fact]
    public void The_transformer_is_the_default_on_the_shipped_models_and_the_loop_with_the_user_s_models_or_loop_options()
    {
        Assert.NotNull(ShippedModels.FindTransformer());   // the repository ships data/clipart-transformer.safetensors
        var recipe = new RecipeOptions();
        var command = new Command("x");
        recipe.AddTo(command);
        string Chosen(bool userModels, params string[] args) => recipe.Read(command.Parse(args), userModels).Generator;

        Assert.Equal("transformer", Chosen(false));
        Assert.Equal("transformer", Chosen(false, "--samples", "4", "--refine", "10", "--lr", "0.05", "--cutn", "16"));   // the pipeline's own and its refinement's
        Assert.Equal("vqgan", Chosen(true));                                   // --clip, --vqgan or --resume of the user's
        foreach (var loopOnly in new[] { "--steps 100", "--init flat", "--starts 3", "--trial-steps 10", "--init-image a.png", "--init-weight 0.5", "--phase-steps 50", "--strokes 16" })
            Assert.Equal("vqgan", Chosen(false, loopOnly.Split(' ')));
        Assert.Equal("pixels", Chosen(false, "--generator", "pixels"));       // a named generator is never overridden
        Assert.Equal("transformer", Chosen(true, "--generator", "transformer"));
        Assert.Equal("vqgan", RunRecipe.Default.Generator);                    // a recipe built in code runs the loop on the models it is given
    }
}
