using VqganClip.Guidance;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.Pipeline;

/// <summary>
/// The transformer pipeline on the class-conditional cin-tiny fixture and the tiny CLIP: conditioning, seeded batched
/// sampling (direct and sliding window), ranking by the loop's prompt loss on fixed cutouts, refinement, progress.
/// </summary>
public sealed class TransformerPipelineTests : IClassFixture<PipelineModels>
{
    private readonly PipelineModels _m;
    public TransformerPipelineTests(PipelineModels models) => _m = models;

    /// <summary>Few cutouts and samples: the tiny models make every run a fraction of a second.</summary>
    private static readonly TransformerSettings Fast = TransformerSettings.Default with { Samples = 6, BatchSize = 4, RankingCutouts = 8, ClassId = 2, RefineSteps = 0 };

    private static readonly GuidanceOptions FastLoop = GuidanceOptions.Default with { CutCount = 4 };

    private static TransformerRequest Request(string prompt, TransformerSettings settings, long seed = 7, int? width = null, int? height = null) => new()
    {
        Prompts = PromptParser.Parse(prompt),
        Settings = settings,
        Guidance = FastLoop,
        Seed = seed,
        Width = width,
        Height = height,
    };

    [Fact]
    public void Samples_are_ranked_by_the_loss_measured_on_fixed_cutouts_with_weights_and_negative_prompts()
    {
        using var pipeline = _m.CinPipeline();
        const string prompt = "a photo of a cat.|a photo of a dog.:-0.5";
        var result = pipeline.Run(Request(prompt, Fast));

        Assert.Equal((32, 32, 8, 8), (result.Width, result.Height, result.GridHeight, result.GridWidth));
        Assert.Null(result.Window);
        Assert.Equal(6, result.Candidates.Count);
        Assert.Equal(Enumerable.Range(0, 6), result.Candidates.Select(c => c.Rank));
        Assert.Equal(Enumerable.Range(0, 6), result.Candidates.Select(c => c.Sample).Order());
        var losses = result.Candidates.Select(c => c.Loss).ToList();
        Assert.Equal(losses.Order(), losses);
        Assert.True(losses[0] < losses[^1], "six samples of a random-weight model should not all measure the same");
        Assert.Same(result.Best, result.Candidates[0]);
        Assert.Equal(result.Best.Loss, result.Loss);
        Assert.Same(result.Best.Image, result.Image);

        var script = PromptParser.Parse(prompt);
        foreach (var c in result.Candidates)
        {
            Assert.Equal(64, c.Codes.Count);
            Assert.All(c.Codes, code => Assert.InRange(code, 0, 47));
            // each prompt's term, the negative one pushing away (a negative loss)
            Assert.Equal(2, c.Prompts.Count);
            Assert.True(c.Prompts[0].Value > 0 && c.Prompts[1].Value < 0, $"terms {c.Prompts[0].Value}, {c.Prompts[1].Value}");
            Assert.Equal(c.Loss, c.Prompts.Sum(p => p.Value), 12);
            // the picture is the first stage's decoding of the codes, and measuring it again gives its loss
            using var codes = c.CodesTensor();
            using var decoded = _m.Cin.DecodeToImage(codes.reshape(1, -1), 8, 8);
            using var expected = decoded.add(1).div(2).clamp(0, 1);
            using var image = c.Image.ToTensor();
            Assert.True((image - expected).abs().max().item<float>() < 1e-6, "the candidate's picture is not its decoded codes");
            var (again, _) = pipeline.Measure(image, script, settings: Fast, guidance: FastLoop);
            Assert.Equal(c.Loss, again, 6);
        }
    }

    [Fact]
    public void The_ranking_loss_is_the_loops_evaluation_of_the_same_picture()
    {
        using var pipeline = _m.CinPipeline();
        var request = Request("a photo of a cat.|a photo of a dog.:-0.5", Fast with { Samples = 2 });
        var result = pipeline.Run(request);
        // a guided run started from the best codes, evaluated on the same number of cutouts with the same seed
        var generator = pipeline.StartGenerator(result.Best.Codes, result.Width, result.Height);
        using var run = new GuidedRun(generator, _m.Clip, request.Prompts, FastLoop with { Seed = 7 });
        var record = run.Evaluate(Fast.RankingCutouts, Fast.RankingSeed);
        Assert.Equal(result.Best.Loss, record.Total, 5);
        Assert.Equal(result.Best.Prompts.Select(p => p.Value), record.Prompts.Select(p => p.Value), new ToleranceComparer(1e-5));
    }

    [Fact]
    public void Seeded_runs_give_identical_codes_with_or_without_the_cache_and_another_seed_other_codes()
    {
        using var pipeline = _m.CinPipeline();
        var first = pipeline.Run(Request("a photo of a cat.", Fast, seed: 11));
        var again = pipeline.Run(Request("a photo of a cat.", Fast, seed: 11));
        var uncached = pipeline.Run(Request("a photo of a cat.", Fast with { UseCache = false }, seed: 11));
        var other = pipeline.Run(Request("a photo of a cat.", Fast, seed: 12));
        static IEnumerable<long[]> Codes(TransformerResult r) => r.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray());
        Assert.Equal(Codes(first), Codes(again));
        Assert.Equal(Codes(first), Codes(uncached));
        Assert.NotEqual(Codes(first), Codes(other));
        Assert.Equal(first.Candidates.Select(c => c.Loss), again.Candidates.Select(c => c.Loss));
    }

    [Fact]
    public void The_codes_are_the_samplers_own_for_the_class_batched_and_seeded()
    {
        using var pipeline = _m.CinPipeline();
        var settings = Fast with { Samples = 3, BatchSize = 3, ClassId = 4, TopK = 10, Temperature = 0.9 };
        var result = pipeline.Run(Request("a photo of a fish.", settings, seed: 5));
        Assert.Equal(TransformerConditioningKind.Class, result.Conditioning.Kind);
        Assert.Equal(new long[] { 4 }, result.Conditioning.Tokens);
        Assert.False(result.Conditioning.ClassChosenByClip);
        Assert.Equal("elephant", result.Conditioning.ClassName);

        using var generator = new Generator(5);
        using var c = full(new long[] { 3, 1 }, 4L, ScalarType.Int64);
        using var direct = _m.Cin.Sample(c, 64, new SamplingOptions { Temperature = 0.9, TopK = 10, Generator = generator });
        var expected = Enumerable.Range(0, 3).Select(i => direct[i].data<long>().ToArray());
        Assert.Equal(expected, result.Candidates.OrderBy(x => x.Sample).Select(x => x.Codes.ToArray()));
    }

    [Fact]
    public void Refinement_starts_from_the_best_codes_changes_the_picture_and_records_its_loss_history()
    {
        using var pipeline = _m.CinPipeline();
        var settings = Fast with { Samples = 3, RefineSteps = 4, AnchorWeight = 0.5 };
        var progress = new List<TransformerProgress>();
        var result = pipeline.Run(Request("a photo of a cat.", settings), p => { if (p.Stage == TransformerStage.Refining) progress.Add(p); });

        Assert.Equal(4, result.RefineSteps);
        Assert.Equal(4, result.RefineHistory.Count);
        Assert.Equal(new[] { 0, 1, 2, 3 }, result.RefineHistory.Select(r => r.Step));
        Assert.All(result.RefineHistory, r => Assert.True(double.IsFinite(r.Total)));
        // the anchor is the loop's init-weight term on the latent, holding for the whole refinement
        Assert.NotNull(result.RefineOptions);
        Assert.Equal(0.5, result.RefineOptions!.InitWeight);
        Assert.False(result.RefineOptions.InitWeightDecay);
        Assert.Contains("init", result.RefineHistory[^1].Regularizers.Keys);
        Assert.Equal(0.0, result.RefineHistory[0].Regularizers["init"]);   // step 0: the latent is its start
        Assert.True(result.RefineHistory[^1].Regularizers["init"] > 0, "the latent moved, so the anchor pulls");

        using var best = result.Best.Image.ToTensor();
        using var final = result.Image.ToTensor();
        Assert.True((final - best).abs().max().item<float>() > 1e-3, "refinement did not change the picture");
        Assert.Equal(4, result.Image.Step);
        Assert.NotEqual(result.Best.Loss, result.Loss);
        Assert.Equal(Enumerable.Range(1, 4), progress.Select(p => p.Completed));
        Assert.All(progress, p => Assert.NotNull(p.Refine));

        // the refinement's start picture is the best sample's
        using var generator = pipeline.StartGenerator(result.Best.Codes, 32, 32);
        using var start = generator.Render().detach();
        Assert.True((start - best).abs().max().item<float>() < 1e-5, "the start latent does not render the best sample");
        Assert.True(generator.Parameters[0].requires_grad, "the latent is what the loop optimises");
        Assert.All(_m.Cin.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Without_an_anchor_weight_the_refinement_has_no_anchor_term()
    {
        using var pipeline = _m.CinPipeline();
        var result = pipeline.Run(Request("a photo of a cat.", Fast with { Samples = 1, RefineSteps = 2, AnchorWeight = 0 }));
        Assert.DoesNotContain("init", result.RefineHistory[^1].Regularizers.Keys);
    }

    [Fact]
    public void The_class_is_chosen_by_CLIP_zero_shot_over_the_names_when_not_given()
    {
        using var pipeline = _m.CinPipeline();
        // the prompt is class 6's zero-shot text itself: its text embedding is that class's, distance 0
        var chosen = pipeline.ChooseConditioning(PromptParser.Parse("a photo of a guitar."), Fast with { ClassId = null });
        Assert.Equal(TransformerConditioningKind.Class, chosen.Kind);
        Assert.True(chosen.ClassChosenByClip);
        Assert.Equal(6, chosen.ClassId);
        Assert.Equal("guitar", chosen.ClassName);
        Assert.Equal(new long[] { 6 }, chosen.Tokens);
        Assert.Equal(5, chosen.ClassScores.Count);
        Assert.Equal(0.0, chosen.ClassScores[0].Loss, 5);
        Assert.Equal(chosen.ClassScores.Select(s => s.Loss).Order(), chosen.ClassScores.Select(s => s.Loss));

        // a negative prompt pushes away: the same text with weight -1 makes guitar the worst class
        var script = PromptParser.Parse("a photo of a guitar.:-1");
        var prompts = new List<Prompt>();
        var encoder = new PromptEncoder(_m.Clip);
        using var rng = new Generator(0);
        prompts.Add(encoder.Encode(script.Phases[0][0], new VqganClip.Guidance.Cutouts.OriginalCutouts(32, 1, 1.0), rng, 32, 32));
        var scores = pipeline.ZeroShot(prompts);
        Assert.Equal(10, scores.Count);
        Assert.Equal(6, scores[^1].ClassId);
        Assert.NotEqual(6, scores[0].ClassId);
        foreach (var p in prompts) p.Dispose();

        // a run without ClassId samples the chosen class
        var result = pipeline.Run(Request("a photo of a guitar.", Fast with { Samples = 1, ClassId = null }));
        Assert.Equal(6, result.Conditioning.ClassId);
        Assert.True(result.Conditioning.ClassChosenByClip);
    }

    [Fact]
    public void An_unconditional_model_samples_after_its_SOS_token()
    {
        using var pipeline = new TransformerPipeline(_m.Unconditional, _m.Clip);
        var result = pipeline.Run(Request("a photo of a cat.", Fast with { Samples = 2, ClassId = null }, seed: 3));
        Assert.Equal(TransformerConditioningKind.Unconditional, result.Conditioning.Kind);
        Assert.Equal(new long[] { 5 }, result.Conditioning.Tokens);
        using var generator = new Generator(3);
        using var sos = full(new long[] { 2, 1 }, 5L, ScalarType.Int64);
        using var direct = _m.Unconditional.Sample(sos, 64, new SamplingOptions { TopK = 100, Temperature = Fast.Temperature, Generator = generator });
        Assert.Equal(Enumerable.Range(0, 2).Select(i => direct[i].data<long>().ToArray()), result.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));
    }

    [Fact]
    public void A_caption_model_is_conditioned_on_the_first_positive_text_prompt_and_draws_image_codes_only()
    {
        using var pipeline = new TransformerPipeline(_m.Caption, _m.Clip);
        var stage = (CaptionConditioning)_m.Caption.CondStage;
        Assert.Equal(TransformerConditioningKind.Caption, pipeline.ConditioningKind);
        Assert.Equal(6, pipeline.ConditioningLength);
        Assert.Equal(8, pipeline.WindowSide);
        var result = pipeline.Run(Request("a blue circle:-0.5|a red star on the left", Fast with { Samples = 3, ClassId = null }, seed: 4));
        Assert.Equal(TransformerConditioningKind.Caption, result.Conditioning.Kind);
        Assert.Equal("a red star on the left", result.Conditioning.Caption);
        Assert.Equal(stage.EncodeIds("a red star on the left"), result.Conditioning.Tokens);
        Assert.Empty(result.Warnings);
        Assert.All(result.Candidates, c => Assert.All(c.Codes, code => Assert.InRange(code, 0, 47)));   // the vocabulary also holds caption tokens

        using var direct = CaptionDraws("a red star on the left", 3, seed: 4);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => direct[i].data<long>().ToArray()), result.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));

        var unknown = pipeline.Run(Request("a red cat", Fast with { Samples = 1, ClassId = null }));
        Assert.Equal(["cat"], unknown.Conditioning.UnknownWords);
        Assert.Contains("The transformer's caption stage does not know 'cat': those words condition on nothing.", unknown.Warnings);
    }

    [Fact]
    public void A_caption_of_two_things_in_a_relation_is_sampled_by_halves_and_their_best_joined_in_token_space()
    {
        using var pipeline = new TransformerPipeline(_m.Caption, _m.Clip);
        var stage = (CaptionConditioning)_m.Caption.CondStage;
        var settings = Fast with { Samples = 3, ClassId = null, RegionalPicks = 2, RegionalJoin = RegionalJoin.Tokens };
        var reports = new List<(TransformerStage Stage, int? Region, int Completed, int Total)>();
        var result = pipeline.Run(Request("a star above a blue circle", settings, seed: 5), p => reports.Add((p.Stage, p.Region, p.Completed, p.Total)));

        // progress: every token of each half's 3 samples (one batch of 4), then the 4 joins ranked
        Assert.Equal(64, reports.Count(r => r is { Stage: TransformerStage.Sampling, Region: 0 }));
        Assert.Equal(64, reports.Count(r => r is { Stage: TransformerStage.Sampling, Region: 1 }));
        Assert.Equal([1, 2, 3, 4], reports.Where(r => r.Stage == TransformerStage.Ranking).Select(r => r.Completed));
        Assert.All(reports.Where(r => r.Stage == TransformerStage.Ranking), r => Assert.Equal((null, 4), (r.Region, r.Total)));

        var regions = result.Conditioning.Regions;
        Assert.NotNull(regions);
        Assert.Equal(("a star at the top", "a blue circle at the bottom", RegionAxis.Rows), (regions.First, regions.Second, regions.Axis));
        Assert.Equal("a star above a blue circle", result.Conditioning.Caption);
        Assert.Equal(stage.EncodeIds("a star above a blue circle"), result.Conditioning.Tokens);
        Assert.Equal([stage.EncodeIds("a star at the top"), stage.EncodeIds("a blue circle at the bottom")], result.Conditioning.RegionTokens!.Select(t => t.ToArray()));
        Assert.Contains("by halves (upper: 'a star at the top'; lower: 'a blue circle at the bottom')", result.Conditioning.Describe());

        // each half: the sampler's own draws for its caption from the run's seed, ranked against that caption
        Assert.Equal(2, result.RegionCandidates.Count);
        for (int r = 0; r < 2; r++)
        {
            var half = result.RegionCandidates[r];
            Assert.Equal(Enumerable.Range(0, 3), half.Select(c => c.Rank));
            Assert.Equal(half.Select(c => c.Loss).Order(), half.Select(c => c.Loss));
            using var generator = new Generator(5);
            using var prefix = tensor(stage.EncodeIds(regions.Captions[r])).unsqueeze(0).expand(3, -1).contiguous();
            using var direct = _m.Caption.Sample(prefix, 64, new SamplingOptions { TopK = 100, Temperature = Fast.Temperature, Generator = generator });
            Assert.Equal(Enumerable.Range(0, 3).Select(i => direct[i].data<long>().ToArray()), half.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));
            var (again, _) = pipeline.Measure(half[0].Image.ToTensor(), PromptParser.Parse(regions.Captions[r]), settings: settings, guidance: FastLoop);
            Assert.Equal(half[0].Loss, again, 6);
        }

        // the candidates: composite a·2 + b is the upper four rows of the first half's rank-a sample over the lower four of
        // the second's rank-b sample, each moved one row away from the seam (RegionalShift 1): rows 1-4 of the upper
        // grid, then rows 3-6 of the lower
        Assert.Equal(4, result.Candidates.Count);
        Assert.Equal(result.Candidates.Select(c => c.Loss).Order(), result.Candidates.Select(c => c.Loss));
        foreach (var c in result.Candidates)
        {
            var (upper, lower) = (result.RegionCandidates[0][c.Sample / 2].Codes, result.RegionCandidates[1][c.Sample % 2].Codes);
            var expected = Enumerable.Range(0, 64).Select(t => t < 32 ? upper[t + 8] : lower[t - 8]);
            Assert.Equal(expected, c.Codes);
        }
        // without the shift the halves join where they are
        var unshifted = pipeline.Run(Request("a star above a blue circle", settings with { RegionalShift = 0 }, seed: 5));
        Assert.Equal(result.RegionCandidates.Select(h => h.Select(c => c.Codes.ToArray())), unshifted.RegionCandidates.Select(h => h.Select(c => c.Codes.ToArray())));
        foreach (var c in unshifted.Candidates)
        {
            var (upper, lower) = (unshifted.RegionCandidates[0][c.Sample / 2].Codes, unshifted.RegionCandidates[1][c.Sample % 2].Codes);
            Assert.Equal(Enumerable.Range(0, 64).Select(t => t < 32 ? upper[t] : lower[t]), c.Codes);
        }
        // left and right: columns move (the join of two 2x4 grids, shifted by one column)
        var columns = new RegionalCaptions("a", "b", RegionAxis.Columns).RegionOfTokens(2, 4);
        Assert.Equal([1L, 2, 11, 12, 5, 6, 15, 16], TransformerPipeline.Join([0L, 1, 2, 3, 4, 5, 6, 7], [10L, 11, 12, 13, 14, 15, 16, 17], columns, RegionAxis.Columns, 4, 1));
        Assert.Equal(result.Best.Loss, result.Loss);

        // off: the whole caption conditions every token, as before
        var whole = pipeline.Run(Request("a star above a blue circle", settings with { Regional = false }, seed: 5));
        Assert.Null(whole.Conditioning.Regions);
        Assert.Empty(whole.RegionCandidates);
        Assert.Equal(3, whole.Candidates.Count);
        using var plain = CaptionDraws("a star above a blue circle", 3, seed: 5);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => plain[i].data<long>().ToArray()), whole.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));

        // a caption without a relation is not split
        Assert.Null(pipeline.Run(Request("a red star on the left", settings, seed: 5)).Conditioning.Regions);

        // the sliding window reads one caption: the whole one, and the user is told
        var windowed = pipeline.Run(Request("a star above a blue circle", settings with { Samples = 1 }, seed: 5, width: 40, height: 48));
        Assert.NotNull(windowed.Window);
        Assert.Null(windowed.Conditioning.Regions);
        Assert.Empty(windowed.RegionCandidates);
        Assert.Contains("The 40x48 picture is sampled with the sliding window, which reads one caption: 'a star above a blue circle' conditions the whole grid instead of its halves ('a star at the top', 'a blue circle at the bottom').", windowed.Warnings);
    }

    [Fact]
    public void By_default_the_halves_are_joined_as_pictures_and_encoded_back_to_codes()
    {
        using var pipeline = new TransformerPipeline(_m.Caption, _m.Clip);
        var settings = Fast with { Samples = 3, ClassId = null, RegionalPicks = 2 };
        Assert.Equal(RegionalJoin.Pictures, settings.RegionalJoin);
        var result = pipeline.Run(Request("a star left of a circle", settings, seed: 5));
        var regions = result.Conditioning.Regions!;
        Assert.Equal(("a star on the left", "a circle on the right", RegionAxis.Columns), (regions.First, regions.Second, regions.Axis));
        // the halves are the token join's: the same draws, ranked the same way
        var tokens = pipeline.Run(Request("a star left of a circle", settings with { RegionalJoin = RegionalJoin.Tokens }, seed: 5));
        Assert.Equal(tokens.RegionCandidates.Select(h => h.Select(c => c.Codes.ToArray())), result.RegionCandidates.Select(h => h.Select(c => c.Codes.ToArray())));

        // join a·2 + b: the left half of the first half's rank-a picture beside the right half of the second's rank-b
        // picture, through the first stage's encoder; nothing is shrunk when no thing is named small
        Tensor Pictures(int r) => pipeline.Decode(tensor(result.RegionCandidates[r].Take(2).SelectMany(c => c.Codes).ToArray(), new long[] { 2, 64 }), 8, 8);
        using var left = Pictures(0);
        using var right = Pictures(1);
        var joined = EncodedColumnJoins(left, right);
        Assert.Equal(4, result.Candidates.Count);
        foreach (var c in result.Candidates)
            Assert.Equal(joined[c.Sample], c.Codes);
        Assert.Equal(result.Candidates.Select(c => c.Loss).Order(), result.Candidates.Select(c => c.Loss));
        Assert.Equal(1.0, TransformerPipeline.HalfScale("a circle on the right", settings));
        Assert.Equal(settings.SmallScale, TransformerPipeline.HalfScale("a small star on the left", settings));
    }

    [Fact]
    public void A_thing_named_small_is_drawn_as_the_model_draws_it_then_shrunk_about_its_place()
    {
        using var pipeline = new TransformerPipeline(_m.Caption, _m.Clip);
        var settings = Fast with { Samples = 3, ClassId = null };
        var result = pipeline.Run(Request("a small star on the left", settings, seed: 4));
        Assert.Null(result.Conditioning.Regions);
        Assert.Equal((settings.SmallScale, 0.25, 0.5), result.Conditioning.SmallShrink);
        Assert.Equal("caption 'a small star on the left', a small thing: each sample shrunk by 0.57 about (0.25, 0.5)", result.Conditioning.Describe());

        // the sampler's own draws for the whole caption, decoded, shrunk by SmallScale about the left's centre, encoded back
        using var drawn = CaptionDraws("a small star on the left", 3, seed: 4);
        using var pictures = pipeline.Decode(drawn, 8, 8);
        using var shrunk = PictureLayout.Shrink(pictures, settings.SmallScale, (0.25, 0.5));
        var (quant, indices) = _m.Caption.EncodeToZ(shrunk.mul(2).sub(1));
        using (quant)
        using (indices)
            Assert.Equal(Enumerable.Range(0, 3).Select(i => indices[i].data<long>().ToArray()), result.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));

        // SmallScale 1: the draws as they are
        var asDrawn = pipeline.Run(Request("a small star on the left", settings with { SmallScale = 1 }, seed: 4));
        Assert.Null(asDrawn.Conditioning.SmallShrink);
        Assert.Equal("caption 'a small star on the left'", asDrawn.Conditioning.Describe());
        Assert.Equal(Enumerable.Range(0, 3).Select(i => drawn[i].data<long>().ToArray()), asDrawn.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));
    }

    /// <summary>
    /// The first stage's codes of the column joins of two pictures each [2, 3, H, W], in the pipeline's order a·2 + b:
    /// the left half of <paramref name="left"/>[a] beside the right half of <paramref name="right"/>[b].
    /// </summary>
    private List<long[]> EncodedColumnJoins(Tensor left, Tensor right)
    {
        using var scope = NewDisposeScope();
        var joins = new List<Tensor>();
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                joins.Add(PictureLayout.JoinHalves(left[a..(a + 1)], right[b..(b + 1)], RegionAxis.Columns));
        var (_, indices) = _m.Caption.EncodeToZ(cat(joins, 0).mul(2).sub(1));
        return Enumerable.Range(0, 4).Select(i => indices[i].data<long>().ToArray()).ToList();
    }

    /// <summary>The caption model's own draws for <paramref name="caption"/> (top-k 100, the default temperature, one generator seeded with <paramref name="seed"/>): what the pipeline's sampler draws.</summary>
    private Tensor CaptionDraws(string caption, int count, ulong seed)
    {
        using var generator = new Generator(seed);
        using var prefix = tensor(((CaptionConditioning)_m.Caption.CondStage).EncodeIds(caption)).unsqueeze(0).expand(count, -1).contiguous();
        return _m.Caption.Sample(prefix, 64, new SamplingOptions { TopK = 100, Temperature = Fast.Temperature, Generator = generator });
    }

    [Fact]
    public void A_caption_drawn_in_the_middle_is_moved_to_its_place()
    {
        using var pipeline = new TransformerPipeline(_m.Caption, _m.Clip);
        var stage = (CaptionConditioning)_m.Caption.CondStage;
        var settings = Fast with { Samples = 3, ClassId = null, Placement = SamplePlacement.Move };
        var result = pipeline.Run(Request("a small star on the left", settings, seed: 4));
        Assert.True(result.Conditioning.DrawnInMiddle);
        Assert.Equal("a small star in the middle", result.Conditioning.AskedCaption);
        Assert.Equal((settings.SmallScale, 0.25, 0.5), result.Conditioning.MovedTo);
        Assert.Null(result.Conditioning.SmallShrink);
        Assert.Equal("caption 'a small star on the left', drawn as 'a small star in the middle' and moved to (0.25, 0.5), shrunk by 0.57", result.Conditioning.Describe());
        Assert.Equal(stage.EncodeIds("a small star in the middle"), result.Conditioning.Tokens);

        // the sampler's own draws for the caption said in the middle, decoded, shrunk and moved from the middle to the
        // left's centre, encoded back; the ranking is against the caption as written
        using var drawn = CaptionDraws("a small star in the middle", 3, seed: 4);
        using var pictures = pipeline.Decode(drawn, 8, 8);
        using var moved = PictureLayout.Move(pictures, settings.SmallScale, (0.5, 0.5), (0.25, 0.5));
        var (quant, indices) = _m.Caption.EncodeToZ(moved.mul(2).sub(1));
        using (quant)
        using (indices)
            Assert.Equal(Enumerable.Range(0, 3).Select(i => indices[i].data<long>().ToArray()), result.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));
        Assert.Equal("a small star on the left", result.PromptLosses.Single().Label);

        // a thing of unsaid size keeps its size; a caption in the middle (or without a place) is drawn as it is
        var big = pipeline.Run(Request("a star on the right", settings, seed: 4));
        Assert.Equal((1.0, 0.75, 0.5), big.Conditioning.MovedTo);
        Assert.Equal("caption 'a star on the right', drawn as 'a star in the middle' and moved to (0.75, 0.5)", big.Conditioning.Describe());
        var middle = pipeline.Run(Request("a star in the middle", settings, seed: 4));
        Assert.Null(middle.Conditioning.MovedTo);
        Assert.Null(middle.Conditioning.AskedCaption);
        Assert.Equal("caption 'a star in the middle'", middle.Conditioning.Describe());

        // Placement.Caption (or Model, for a model drawn where its captions say): the draws of the caption as written
        var asWritten = pipeline.Run(Request("a star on the right", settings with { Placement = SamplePlacement.Model }, seed: 4));
        Assert.False(asWritten.Conditioning.DrawnInMiddle);
        Assert.Null(asWritten.Conditioning.MovedTo);
        using var plain = CaptionDraws("a star on the right", 3, seed: 4);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => plain[i].data<long>().ToArray()), asWritten.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));
    }

    [Fact]
    public void Halves_drawn_in_the_middle_are_each_moved_to_their_place_before_the_join()
    {
        using var pipeline = new TransformerPipeline(_m.Caption, _m.Clip);
        var stage = (CaptionConditioning)_m.Caption.CondStage;
        // each half's best 2 picks whatever their backdrops (the pairing by backdrop: the next test)
        var settings = Fast with { Samples = 3, ClassId = null, RegionalPicks = 2, Placement = SamplePlacement.Move, RegionalBackdrop = null };
        var result = pipeline.Run(Request("a star left of a circle", settings, seed: 5));
        Assert.True(result.Conditioning.DrawnInMiddle);
        Assert.Null(result.Conditioning.AskedCaption);
        Assert.EndsWith(", each half drawn in the middle and moved to its place", result.Conditioning.Describe());
        Assert.Equal(stage.EncodeIds("a star in the middle"), result.Conditioning.RegionTokens![0]);
        Assert.Equal(stage.EncodeIds("a circle in the middle"), result.Conditioning.RegionTokens![1]);

        // join a·2 + b: the rank-a left pick moved from the middle to (0.25, 0.5), its left half beside the right half
        // of the rank-b right pick moved to (0.75, 0.5), through the encoder
        Tensor Moved(int r, (double, double) to)
        {
            using var decoded = pipeline.Decode(tensor(result.RegionCandidates[r].Take(2).SelectMany(c => c.Codes).ToArray(), new long[] { 2, 64 }), 8, 8);
            return PictureLayout.Move(decoded, 1, (0.5, 0.5), to);
        }
        using var left = Moved(0, (0.25, 0.5));
        using var right = Moved(1, (0.75, 0.5));
        var joined = EncodedColumnJoins(left, right);
        foreach (var c in result.Candidates)
            Assert.Equal(joined[c.Sample], c.Codes);

        // the sliding window reads the whole caption as written: nothing is drawn in the middle, so nothing is moved
        var windowed = pipeline.Run(Request("a star left of a circle", settings with { Samples = 1 }, seed: 5, width: 40, height: 48));
        Assert.NotNull(windowed.Window);
        Assert.False(windowed.Conditioning.DrawnInMiddle);
        Assert.Null(windowed.Conditioning.MovedTo);
        Assert.Equal("caption 'a star left of a circle'", windowed.Conditioning.Describe());

        // joined in token space, halves cannot be moved: they are asked as written
        var tokens = pipeline.Run(Request("a star left of a circle", settings with { RegionalJoin = RegionalJoin.Tokens }, seed: 5));
        Assert.False(tokens.Conditioning.DrawnInMiddle);
        Assert.Equal(stage.EncodeIds("a star on the left"), tokens.Conditioning.RegionTokens![0]);
    }

    [Fact]
    public void Halves_drawn_in_the_middle_are_paired_by_their_backdrops()
    {
        using var pipeline = new TransformerPipeline(_m.Caption, _m.Clip);
        var settings = Fast with { Samples = 3, ClassId = null, RegionalPicks = 2, Placement = SamplePlacement.Move };
        Assert.Equal(0.08, settings.RegionalBackdrop);
        var result = pipeline.Run(Request("a star left of a circle", settings, seed: 5));

        // every sample of each half decoded in the middle, paired by PairByBackdrop (4 pairs), each pair moved and joined
        Tensor Drawn(int r) => pipeline.Decode(tensor(result.RegionCandidates[r].SelectMany(c => c.Codes).ToArray(), new long[] { 3, 64 }), 8, 8);
        using var first = Drawn(0);
        using var second = Drawn(1);
        var pairs = TransformerPipeline.PairByBackdrop(first, second, 0.08, 4);
        using var left = PictureLayout.Move(first, 1, (0.5, 0.5), (0.25, 0.5));
        using var right = PictureLayout.Move(second, 1, (0.5, 0.5), (0.75, 0.5));
        var joins = cat(pairs.Select(p => PictureLayout.JoinHalves(left[p.A..(p.A + 1)], right[p.B..(p.B + 1)], RegionAxis.Columns)).ToArray(), 0);
        var (quant, indices) = _m.Caption.EncodeToZ(joins.mul(2).sub(1));
        using (quant)
        using (indices)
            Assert.Equal(Enumerable.Range(0, 4).Select(i => indices[i].data<long>().ToArray()), result.Candidates.OrderBy(c => c.Sample).Select(c => c.Codes.ToArray()));
    }

    [Fact]
    public void Pairs_whose_backdrops_agree_come_first_by_their_ranks_then_the_nearest()
    {
        // 16x16 pictures: a backdrop colour with a thing in the middle half (which the comparison leaves out)
        Tensor Pictures(params (float Backdrop, float Thing)[] looks)
        {
            var p = zeros(looks.Length, 3, 16, 16);
            for (int i = 0; i < looks.Length; i++)
            {
                p[i] = full(3, 16, 16, looks[i].Backdrop);
                p[i, .., 5..11, 5..11] = full(3, 6, 6, looks[i].Thing);
            }
            return p;
        }
        using var first = Pictures((1f, 0f), (0.6f, 0.2f), (1f, 0.5f));     // white, sky, white
        using var second = Pictures((0.6f, 0.9f), (0.98f, 0.1f), (0.1f, 0.3f)); // sky, nearly white, night
        // agreeing (|difference| 0 or 0.02): (0,1) and (1,0) by rank sum 1, the first half's better rank first, then (2,1);
        // then the nearest of the rest: (1,1) at 0.38, (0,0) at 0.4 (before (2,0), also 0.4, by rank sum)
        Assert.Equal([(0, 1), (1, 0), (2, 1), (1, 1), (0, 0)], TransformerPipeline.PairByBackdrop(first, second, 0.08, 5));
        Assert.Equal([(0, 1), (1, 0)], TransformerPipeline.PairByBackdrop(first, second, 0.08, 2));
        // tolerance 0: only identical backdrops agree
        Assert.Equal((1, 0), TransformerPipeline.PairByBackdrop(first, second, 0, 1).Single());
    }

    [Fact]
    public void A_grid_larger_than_the_block_is_sampled_with_the_sliding_window()
    {
        using var pipeline = _m.CinPipeline();
        Assert.Equal(8, pipeline.WindowSide);
        Assert.Equal((32, 32), pipeline.DefaultSize);
        var reports = new List<(int Completed, int Row, bool EndOfRow, long[] Shape)>();
        var settings = Fast with { Samples = 2, BatchSize = 2, ClassId = 1 };
        var result = pipeline.Run(Request("a photo of a cat.", settings, seed: 9, width: 40, height: 48),
            p => { if (p.Stage == TransformerStage.Sampling) reports.Add((p.Completed, p.Row, p.EndOfRow, p.Tokens!.shape)); });
        Assert.Equal((12, 10, 8), (result.GridHeight, result.GridWidth, result.Window));
        Assert.Equal(120, result.Best.Codes.Count);
        Assert.Equal(120, reports.Count);
        Assert.Equal(12, reports.Count(r => r.EndOfRow));
        Assert.All(reports, r => Assert.Equal(new long[] { 2, 12, 10 }, r.Shape));

        using var generator = new Generator(9);
        using var start = zeros(new long[] { 2, 12, 10 }, ScalarType.Int64);
        using var c = full(new long[] { 2, 1 }, 1L, ScalarType.Int64);
        using var direct = _m.Cin.SampleSlidingWindow(start, c, new SamplingOptions { TopK = 100, Temperature = Fast.Temperature, Generator = generator }, window: 8);
        Assert.Equal(Enumerable.Range(0, 2).Select(i => direct[i].reshape(-1).data<long>().ToArray()),
            result.Candidates.OrderBy(x => x.Sample).Select(x => x.Codes.ToArray()));
    }

    [Fact]
    public void Progress_reports_every_token_row_sample_and_partial_pictures_decode()
    {
        using var pipeline = _m.CinPipeline();
        var sampling = new List<TransformerProgress>();
        var ranking = new List<TransformerProgress>();
        Tensor? partial = null;
        var result = pipeline.Run(Request("a photo of a cat.", Fast with { Samples = 5, BatchSize = 3 }), p =>
        {
            if (p.Stage == TransformerStage.Ranking) ranking.Add(p);
            if (p.Stage != TransformerStage.Sampling) return;
            sampling.Add(p with { Tokens = null });
            Assert.Equal(new long[] { p.BatchSamples, p.Completed }, p.Tokens!.shape);
            if (p.Batch == 0 && p.Row == 3 && p.EndOfRow) partial = pipeline.DecodePartial(p.Tokens, p.GridHeight, p.GridWidth);
        });
        Assert.Equal(2 * 64, sampling.Count);
        Assert.Equal(new[] { 3, 2 }, sampling.Where(p => p.Completed == 1).Select(p => p.BatchSamples));
        Assert.Equal(16, sampling.Count(p => p.EndOfRow));
        Assert.All(sampling, p => Assert.Equal(2, p.Batches));
        Assert.Equal(Enumerable.Range(1, 5), ranking.Select(p => p.Completed));
        Assert.All(ranking, p => Assert.Equal(-1, p.Candidate!.Rank));
        Assert.NotNull(partial);
        using (partial)
        {
            Assert.Equal(new long[] { 3, 3, 32, 32 }, partial!.shape);
            // the first four rows are the sample's: its picture's top half (f4: 16 pixels) matches where the receptive field allows
            Assert.True(partial.min().item<float>() >= 0 && partial.max().item<float>() <= 1);
        }
        Assert.True(result.TokensPerSecond > 0);
    }

    [Fact]
    public void A_cancelled_run_stops_while_sampling()
    {
        using var pipeline = _m.CinPipeline();
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.Run(Request("a photo of a cat.", Fast),
            p => { if (p.Completed == 10) cts.Cancel(); }, cts.Token));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
