using VqganClip.Guidance;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Pipeline;

/// <summary>
/// The pipeline's bad inputs (each error names the setting and the value), its seam for caption stages, the class
/// names files, and the recipe that the command line and notebooks turn into a pipeline run.
/// </summary>
public sealed class TransformerPipelineInputTests : IClassFixture<PipelineModels>
{
    private readonly PipelineModels _m;
    public TransformerPipelineInputTests(PipelineModels models) => _m = models;

    private static readonly TransformerSettings Fast = TransformerSettings.Default with { Samples = 2, RankingCutouts = 4, ClassId = 1, RefineSteps = 0 };

    private TransformerResult Run(TransformerPipeline pipeline, TransformerSettings settings, string prompt = "a photo of a cat.", int? width = null, int? height = null) =>
        pipeline.Run(new TransformerRequest { Prompts = PromptParser.Parse(prompt), Settings = settings, Width = width, Height = height });

    [Theory]
    [InlineData("TopK", "TopK must be a positive number of tokens; got 0. Leave it unset to keep every token.")]
    [InlineData("TopKNegative", "TopK must be a positive number of tokens; got -3. Leave it unset to keep every token.")]
    [InlineData("TopP", "TopP must lie in (0, 1]; got 1.5. 1 keeps every token.")]
    [InlineData("TopPZero", "TopP must lie in (0, 1]; got 0. 1 keeps every token.")]
    [InlineData("Samples", "Samples must be between 1 and 1024; got 0.")]
    [InlineData("Temperature", "Temperature must be a positive number; got 0.")]
    [InlineData("RefineSteps", "RefineSteps must be 0 or more; got -1.")]
    [InlineData("RegionalPicks", "RegionalPicks must be between 1 and 32; got 0.")]
    [InlineData("RegionalPicksLarge", "RegionalPicks must be between 1 and 32; got 33.")]
    [InlineData("RegionalShift", "RegionalShift must be between 0 and 8 token lines; got -1.")]
    [InlineData("RegionalJoin", "RegionalJoin must be Pictures or Tokens; got 7.")]
    [InlineData("SmallScale", "SmallScale must lie in (0, 1] (1: leave small things as drawn); got 0.")]
    [InlineData("SmallScaleLarge", "SmallScale must lie in (0, 1] (1: leave small things as drawn); got 1.5.")]
    [InlineData("AnchorWeight", "AnchorWeight must be 0 or a positive number; got -0.5.")]
    [InlineData("ClassIdNegative", "ClassId must be a class id, 0 or more; got -1.")]
    [InlineData("Template", "ClassPromptTemplate must contain {0} where the class name goes; got 'a photo'.")]
    public void Bad_settings_are_named_before_anything_is_sampled(string setting, string message)
    {
        var bad = setting switch
        {
            "TopK" => Fast with { TopK = 0 },
            "TopKNegative" => Fast with { TopK = -3 },
            "TopP" => Fast with { TopP = 1.5 },
            "TopPZero" => Fast with { TopP = 0 },
            "Samples" => Fast with { Samples = 0 },
            "Temperature" => Fast with { Temperature = 0 },
            "RefineSteps" => Fast with { RefineSteps = -1 },
            "RegionalPicks" => Fast with { RegionalPicks = 0 },
            "RegionalPicksLarge" => Fast with { RegionalPicks = 33 },
            "RegionalShift" => Fast with { RegionalShift = -1 },
            "RegionalJoin" => Fast with { RegionalJoin = (RegionalJoin)7 },
            "SmallScale" => Fast with { SmallScale = 0 },
            "SmallScaleLarge" => Fast with { SmallScale = 1.5 },
            "AnchorWeight" => Fast with { AnchorWeight = -0.5 },
            "ClassIdNegative" => Fast with { ClassId = -1 },
            _ => Fast with { ClassPromptTemplate = "a photo" },
        };
        using var pipeline = _m.CinPipeline();
        var e = Assert.ThrowsAny<ArgumentException>(() => Run(pipeline, bad));
        Assert.Equal(message, e.Message);
        // the recipe checks them too, before any model is loaded
        var recipe = RunRecipe.Default with { Prompt = "a cat", Generator = "transformer", Transformer = bad };
        Assert.Equal(message, Assert.ThrowsAny<ArgumentException>(recipe.Validate).Message);
    }

    [Fact]
    public void A_class_outside_the_models_classes_or_for_a_model_without_classes_is_named()
    {
        using var pipeline = _m.CinPipeline();
        var e = Assert.ThrowsAny<ArgumentException>(() => Run(pipeline, Fast with { ClassId = 10 }));
        Assert.Equal("ClassId 10 is outside the model's classes: it knows 10 (ids 0 to 9).", e.Message);

        using var unconditional = new TransformerPipeline(_m.Unconditional, _m.Clip);
        e = Assert.ThrowsAny<ArgumentException>(() => Run(unconditional, Fast with { ClassId = 3 }));
        Assert.StartsWith("ClassId (3) applies to class-conditional transformers; this one is unconditional", e.Message);

        e = Assert.Throws<ArgumentException>(() => new TransformerPipeline(_m.Unconditional, _m.Clip, PipelineModels.ClassNames));
        Assert.StartsWith("Class names were given but the transformer is not class-conditional", e.Message);
    }

    [Fact]
    public void Without_names_or_a_class_CLIP_cannot_choose_and_says_what_to_give()
    {
        using var pipeline = new TransformerPipeline(_m.Cin, _m.Clip);
        var e = Assert.ThrowsAny<ArgumentException>(() => Run(pipeline, Fast with { ClassId = null }));
        Assert.StartsWith("The transformer is class-conditional (10 classes) but its classes have no names, so CLIP cannot choose one: set ClassId", e.Message);
        Assert.Contains(".classes.txt", e.Message);

        using var named = _m.CinPipeline();
        e = Assert.ThrowsAny<ArgumentException>(() => named.Run(new TransformerRequest
        {
            Prompts = PromptScript.Of(PromptSpec.FromNoise(3)),
            Settings = Fast with { ClassId = null },
        }));
        Assert.StartsWith("CLIP chooses the class by the text and image prompts, and there are none", e.Message);

        var wrongCount = ClassNames.Of(["a", "b", "c"]);
        var invalid = Assert.Throws<InvalidDataException>(() => new TransformerPipeline(_m.Cin, _m.Clip, wrongCount));
        Assert.Equal("Class names (code) name 3 classes but the model has 10: line i must name class i - 1 of the model.", invalid.Message);
    }

    [Fact]
    public void Pictures_the_model_cannot_sample_are_named_with_the_sizes_that_work()
    {
        using var pipeline = _m.CinPipeline();
        var e = Assert.ThrowsAny<ArgumentException>(() => Run(pipeline, Fast, width: 2, height: 2));
        Assert.Equal("The transformer's first stage draws in blocks of 4x4 pixels: the picture must be at least 4x4; got 2x2.", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => Run(pipeline, Fast, width: 80, height: 16));
        Assert.Equal("The 80x16 picture is a 4x20 token grid: 80 tokens after 1 conditioning tokens do not fit the GPT's block of 64, and the sliding window of 8x8 tokens needs a grid at least that large (32x32 pixels). Choose a size within 32x32 pixels, or both sides at least 32.", e.Message);

        // smaller than the window: sampled directly, with a warning that the rows are not the ones the GPT learned
        var small = Run(pipeline, Fast with { Samples = 1 }, width: 16, height: 16);
        Assert.Equal((4, 4), (small.GridHeight, small.GridWidth));
        Assert.Contains(small.Warnings, w => w.Contains("it learned rows of 8 tokens and will read rows of 4"));
    }

    [Fact]
    public void Models_that_need_a_conditioning_image_are_refused()
    {
        var yaml = Path.Combine(_m.Folder, "window-project.yaml");
        File.WriteAllText(yaml, ProjectYaml(Window));
        using var window = Net2NetTransformer.Load(Fixture(Window, "last.safetensors"), yaml, device: CPU);
        var e = Assert.Throws<NotSupportedException>(() => new TransformerPipeline(window, _m.Clip));
        Assert.StartsWith("The transformer's conditioning is", e.Message);
        Assert.Contains("it needs a conditioning image or map, which a text prompt does not give", e.Message);
    }

    /// <summary>A caption stage as the pipeline sees one: an <see cref="IConditioningStage"/> that is also an <see cref="ITextConditioning"/>.</summary>
    private sealed class FakeCaptionStage : IConditioningStage, ITextConditioning
    {
        private static readonly string[] Known = ["a", "red", "circle", "blue", "square"];
        public List<string> Seen { get; } = [];
        public string Target => "test.CaptionStage";
        public string Description => "captions (test stage, 3 tokens)";
        public Tensor Encode(Tensor conditioning) => throw new InvalidOperationException("the pipeline encodes captions through ITextConditioning");

        public Tensor EncodeText(IReadOnlyList<string> captions, Device? device = null)
        {
            Seen.AddRange(captions);
            var rows = captions.Select(c => c.Split(' ').Take(3).Select(w => (long)(Array.IndexOf(Known, w) + 1)).Concat(Enumerable.Repeat(0L, 3)).Take(3)).SelectMany(x => x).ToArray();
            return tensor(rows, new long[] { captions.Count, 3 });
        }

        public IReadOnlyList<string> UnknownWords(string caption) => caption.Split(' ').Where(w => !Known.Contains(w)).Distinct().ToList();
    }

    [Fact]
    public void A_caption_stage_gets_the_first_positive_text_prompt_and_reports_unknown_words()
    {
        var stage = new FakeCaptionStage();
        var script = PromptParser.Parse("a green circle:-1|a red circle|a blue square");
        var c = TransformerPipeline.ForStage(stage, script, TransformerSettings.Default, null, () => throw new InvalidOperationException("no zero-shot for captions"));
        Assert.Equal(TransformerConditioningKind.Caption, c.Kind);
        Assert.Equal("a red circle", c.Caption);
        Assert.Equal(new long[] { 1, 2, 3 }, c.Tokens);
        Assert.Empty(c.UnknownWords);
        Assert.Equal("caption 'a red circle'", c.Describe());
        // the sequence classifier-free guidance contrasts with: the stage's own tokens of the empty caption
        Assert.Equal(new long[] { 0, 0, 0 }, c.UnconditionalTokens);
        Assert.Equal(["a red circle", ""], stage.Seen);

        c = TransformerPipeline.ForStage(stage, PromptParser.Parse("a purple circle"), TransformerSettings.Default, null, () => throw new InvalidOperationException());
        Assert.Equal(["purple"], c.UnknownWords);

        var e = Assert.Throws<ArgumentException>(() => TransformerPipeline.ForStage(stage, script, TransformerSettings.Default with { ClassId = 2 }, null, () => []));
        Assert.Equal("ClassId (2) applies to class-conditional transformers; this one is conditioned on captions (captions (test stage, 3 tokens)): the prompt's text is its conditioning.", e.Message);
        e = Assert.Throws<ArgumentException>(() => TransformerPipeline.ForStage(stage, PromptParser.Parse("a red circle:-1"), TransformerSettings.Default, null, () => []));
        Assert.Equal("A caption-conditioned transformer draws what a text prompt says: give a text prompt with a positive weight (the prompts have none).", e.Message);
        var sos = new SosProvider(0);
        e = Assert.Throws<ArgumentException>(() => TransformerPipeline.ForStage(sos, script, TransformerSettings.Default with { GuidanceScale = 3 }, null, () => []));
        Assert.StartsWith("GuidanceScale (3) applies to caption-conditioned transformers, whose empty caption is the unconditional model; this one is ", e.Message);
    }

    [Fact]
    public void A_model_drawn_in_the_middle_is_asked_for_the_middle_unless_the_settings_say_otherwise()
    {
        var stage = new FakeCaptionStage();
        var script = PromptParser.Parse("a red circle on the left");
        var c = TransformerPipeline.ForStage(stage, script, TransformerSettings.Default, null, () => [], CaptionPlacement.Middle);
        Assert.True(c.DrawnInMiddle);
        Assert.Equal("a red circle in the middle", c.AskedCaption);
        Assert.Equal("a red circle on the left", c.Caption);
        Assert.Equal(["a red circle in the middle", ""], stage.Seen);

        stage.Seen.Clear();
        c = TransformerPipeline.ForStage(stage, script, TransformerSettings.Default with { Placement = SamplePlacement.Caption }, null, () => [], CaptionPlacement.Middle);
        Assert.False(c.DrawnInMiddle);
        Assert.Null(c.AskedCaption);
        Assert.Equal(["a red circle on the left", ""], stage.Seen);

        // a model drawn where its captions say is asked as written by default, and moved when Placement says Move
        Assert.False(TransformerPipeline.ForStage(stage, script, TransformerSettings.Default, null, () => []).DrawnInMiddle);
        Assert.True(TransformerPipeline.ForStage(stage, script, TransformerSettings.Default with { Placement = SamplePlacement.Move }, null, () => []).DrawnInMiddle);

        var e = Assert.Throws<ArgumentException>(() => (TransformerSettings.Default with { Placement = (SamplePlacement)7 }).Validate());
        Assert.Equal("Placement must be Model, Move or Caption; got 7.", e.Message);
    }

    [Fact]
    public void Class_names_files_name_one_class_a_line_and_ImageNets_are_shipped()
    {
        var imagenet = ClassNames.ImageNet;
        Assert.Equal(1000, imagenet.Count);
        Assert.Equal(("tench", "goldfish", "toilet paper"), (imagenet[0], imagenet[1], imagenet[999]));
        Assert.Same(imagenet, ClassNames.For(Path.Combine(_m.Folder, "cin.ckpt"), 1000));
        Assert.Null(ClassNames.For(Path.Combine(_m.Folder, "cin.ckpt"), 10));

        var beside = Path.Combine(_m.Folder, "named.classes.txt");
        File.WriteAllLines(beside, PipelineModels.Names.Concat(["", ""]));   // trailing empty lines are fine
        var names = ClassNames.For(Path.Combine(_m.Folder, "named.safetensors"), 10)!;
        Assert.Equal(PipelineModels.Names, names.Names);
        Assert.Equal(beside, names.Source);
        var e = Assert.Throws<InvalidDataException>(() => ClassNames.For(Path.Combine(_m.Folder, "named.safetensors"), 11));
        Assert.Contains("name 10 classes but the model has 11", e.Message);

        var gap = Path.Combine(_m.Folder, "gap.txt");
        File.WriteAllLines(gap, ["cat", "", "dog"]);
        e = Assert.Throws<InvalidDataException>(() => ClassNames.Load(gap));
        Assert.Equal($"Class names ({gap}): line 2 is empty. Every line names one class (line 1 is class 0), so an empty line would shift the ids of the classes after it.", e.Message);
        Assert.Throws<FileNotFoundException>(() => ClassNames.Load(Path.Combine(_m.Folder, "missing.txt")));
    }

    [Fact]
    public void The_recipe_runs_the_pipeline_with_its_settings_and_refuses_loop_settings_that_do_not_apply()
    {
        var recipe = RunRecipe.Default with
        {
            Prompt = "a photo of a cat.|a photo of a dog.:-0.5",
            Generator = "Transformer",
            Seed = 21,
            CutCount = 3,
            Transformer = Fast with { Samples = 3, TopK = 7, RefineSteps = 1, AnchorWeight = 0.25 },
        };
        Assert.True(recipe.IsTransformer);
        recipe.Validate();
        var request = recipe.ToTransformerRequest();
        Assert.Equal(21, request.Seed);
        Assert.Equal(3, request.Guidance.CutCount);
        Assert.Equal(7, request.Settings.TopK);
        Assert.Null(request.Width);
        Assert.Equal(2, request.Prompts.Phases[0].Count);

        using var pipeline = _m.CinPipeline();
        var result = recipe.RunTransformer(pipeline);
        Assert.Equal(3, result.Candidates.Count);
        Assert.Equal(1, result.RefineSteps);
        Assert.Equal(0.25, result.RefineOptions!.InitWeight);
        Assert.Equal(3, result.RefineOptions.CutCount);
        Assert.Equal(21, result.RefineOptions.Seed);
        Assert.Contains("transformer", RunRecipe.GeneratorNames);

        Assert.Equal("A start picture (InitImage) does not apply to the transformer generator: it samples its pictures; refine one with the vqgan generator instead.",
            Assert.Throws<ArgumentException>((recipe with { InitImage = "x.png" }).Validate).Message);
        Assert.Equal("Starts (2) does not apply to the transformer generator: it samples Samples (3) pictures and keeps the best.",
            Assert.Throws<ArgumentException>((recipe with { Starts = 2 }).Validate).Message);
        Assert.Equal("InitWeight (0.5) does not apply to the transformer generator: its refinement is anchored to the best sample by AnchorWeight (0.25).",
            Assert.Throws<ArgumentException>((recipe with { InitWeight = 0.5 }).Validate).Message);
        Assert.StartsWith("The transformer generator is not a guided run",
            Assert.Throws<ArgumentException>(() => recipe.CreateRun(_m.Clip, null)).Message);
    }
}
