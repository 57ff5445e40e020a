using System.Text.Json.Nodes;
using VqganClip.Guidance.ClipartWorld;
using VqganClip.Guidance.Training;
using VqganClip.Models.Clip;
using static TorchSharp.torch;
using static VqganClip.Tests.Training.TrainingTestSupport;

namespace VqganClip.Tests.Training;

/// <summary>The CLIP trainer's shape-reading options: kind-variant hard negatives, adversarial views, fine-tuning from a file.</summary>
[Collection("Training")]
public class ClipHardTrainingTests
{
    [Fact]
    public void Kind_variant_groups_differ_in_one_objects_kind_and_their_captions_describe_them()
    {
        var (specs, captions) = ClipartBatches.ScenesWithKindVariants(runSeed: 5, step: 3, count: 24, variants: 4);
        var again = ClipartBatches.ScenesWithKindVariants(runSeed: 5, step: 3, count: 24, variants: 4);
        Assert.Equal(captions, again.Captions);
        Assert.Equal(specs, again.Specs);

        for (int g = 0; g < 6; g++)
        {
            var group = specs.Skip(g * 4).Take(4).ToArray();
            var first = group[0];
            // one object position changes kind across the group; everything else is the same
            int changing = Enumerable.Range(0, first.Objects.Count).Single(i => group.Select(s => s.Objects[i].Kind).Distinct().Count() == 4);
            foreach (var s in group)
            {
                Assert.Equal(first.Background, s.Background);
                Assert.Equal(first.Relation, s.Relation);
                for (int i = 0; i < first.Objects.Count; i++)
                    Assert.Equal(first.Objects[i] with { Kind = s.Objects[i].Kind }, s.Objects[i]);
                for (int i = 0; i < first.Objects.Count; i++)
                    if (i != changing) Assert.Equal(first.Objects[i].Kind, s.Objects[i].Kind);
            }
            for (int v = 0; v < 4; v++)
                Assert.Empty(CaptionParser.Parse(captions[g * 4 + v]).Disagreements(group[v]));
            Assert.Equal(4, captions.Skip(g * 4).Take(4).Distinct().Count());
        }
    }

    [Fact]
    public void Kind_variants_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipartBatches.ScenesWithKindVariants(1, 0, 10, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipartBatches.ScenesWithKindVariants(1, 0, 26, 13));
        var e = Assert.Throws<ArgumentException>(() => (TinyClip() with { BatchSize = 16, KindVariants = 3 }).Validate());
        Assert.Contains("--kind-variants", e.Message);
        e = Assert.Throws<ArgumentException>(() => (TinyClip() with { Augment = new ClipAugment { NoiseStd = -0.1 } }).Validate());
        Assert.Contains("--noise", e.Message);
    }

    [Fact]
    public void Adversarial_views_stay_in_the_ball_and_raise_the_contrastive_loss() => SingleThreaded(() =>
    {
        using var trainer = new ClipTrainer(TinyClip(steps: 3) with { BatchSize = 8 }, renderThreads: 1);
        for (int i = 0; i < 3; i++) trainer.TrainStep();
        var (specs, captions) = ClipartBatches.HeldOut(8);
        using var scope = NewDisposeScope();
        var images = ClipartBatches.Render(specs, 1);
        var tokens = ClipTokenizer.Default.Tokenize(captions, trainer.Model.ContextLength, truncate: true);
        const double eps = 2.0;
        var gradsBefore = trainer.Model.parameters().Select(p => p.grad?.clone()).ToArray();
        var adversarial = ClipTrainer.AdversarialViews(trainer.Model, images, tokens, eps, steps: 2);

        // only the input gradient was taken: the weights' .grad is what the last update left
        var gradsAfter = trainer.Model.parameters().Select(p => p.grad).ToArray();
        for (int i = 0; i < gradsAfter.Length; i++)
            Assert.True(gradsBefore[i] is null ? gradsAfter[i] is null : Same(gradsBefore[i]!, gradsAfter[i]!), $"parameter {i}'s .grad changed");
        var distance = (adversarial - images).flatten(1).norm(1);
        Assert.True(distance.max().item<float>() <= eps + 1e-4, $"perturbation L2 {distance.max().item<float>()} exceeds {eps}");
        Assert.True(distance.min().item<float>() > 0.1, "every view should move");
        Assert.True(adversarial.min().item<float>() >= 0 && adversarial.max().item<float>() <= 1, "views must stay in [0, 1]");
        using var _ = no_grad();
        double clean = ClipTrainer.ContrastiveLoss(trainer.Model, images, tokens).Loss.item<float>();
        double attacked = ClipTrainer.ContrastiveLoss(trainer.Model, adversarial, tokens).Loss.item<float>();
        Assert.True(attacked > clean, $"adversarial loss {attacked:0.0000} should exceed clean {clean:0.0000}");
    });

    [Fact]
    public void Options_round_trip_and_runs_saved_before_the_new_options_read_as_plain_runs()
    {
        var options = TinyClip() with { KindVariants = 4, AdversarialEps = 1.5, AdversarialSteps = 2, BatchSize = 16 };
        var back = ClipTrainingOptions.FromJson(options.ToJson());
        Assert.Equal(4, back.KindVariants);
        Assert.Equal(1.5, back.AdversarialEps);
        Assert.Equal(2, back.AdversarialSteps);

        var old = options.ToJson();
        old.Remove("kind_variants");
        old.Remove("adversarial_eps");
        old.Remove("adversarial_steps");
        old.Remove("init_from");
        var plain = ClipTrainingOptions.FromJson(JsonNode.Parse(old.ToJsonString())!.AsObject());
        Assert.Equal(1, plain.KindVariants);
        Assert.Equal(0, plain.AdversarialEps);
        Assert.Null(plain.InitFrom);
    }

    [Fact]
    public void Fine_tuning_starts_from_the_files_weights_and_a_missing_file_is_named() => SingleThreaded(() =>
    {
        var dir = TempDirectory();
        try
        {
            var path = Path.Combine(dir, "start.safetensors");
            using (var first = new ClipTrainer(TinyClip(steps: 2) with { Seed = 11 }, renderThreads: 1))
            {
                first.TrainStep();
                first.Export(path);
            }
            using var tuned = new ClipTrainer(TinyClip(steps: 2) with { Seed = 12, InitFrom = path }, renderThreads: 1);
            using var source = ClipModel.Load(path);
            var expected = source.state_dict();
            foreach (var (name, tensor) in tuned.Model.state_dict())
                Assert.True(Same(tensor, expected[name]), $"'{name}' was not taken from the --init file");

            var missing = Path.Combine(dir, "nope.safetensors");
            var e = Assert.Throws<FileNotFoundException>(() => new ClipTrainer(TinyClip() with { InitFrom = missing }, renderThreads: 1));
            Assert.Contains(missing, e.Message);

            // a fine-tuned run resumes from its checkpoint even when the --init file is gone
            tuned.TrainStep();
            tuned.SaveCheckpoint(dir);
            File.Delete(path);
            using var resumed = ClipTrainer.Resume(dir, renderThreads: 1);
            Assert.Equal(1, resumed.Step);
            Assert.Equal(path, resumed.Options.InitFrom);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });
}

[Collection("Training")]
public class PatchSubspaceTests
{
    [Fact]
    public void Projection_keeps_few_directions_and_barely_moves_the_features_of_real_scenes() => SingleThreaded(() =>
    {
        using var trainer = new ClipTrainer(TinyClip(steps: 4), renderThreads: 1);
        for (int i = 0; i < 4; i++) trainer.TrainStep();
        var model = trainer.Model;
        var (specs, _) = ClipartBatches.HeldOut(16);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pixels = ClipModel.Normalize01(ClipartBatches.Render(specs, 1));
        var before = model.EncodeImage(pixels);
        var vit = (VisionTransformer)model.visual;
        var weightBefore = vit.conv1.weight!.clone();

        var result = PatchSubspace.Project(model, keepVariance: 0.99, scenes: 256, seed: 3, threads: 1);

        Assert.Equal(768, result.Directions);
        Assert.InRange(result.Kept, 1, 300);
        Assert.True(result.VarianceKept >= 0.99);
        var weight = vit.conv1.weight!.reshape(vit.conv1.weight!.shape[0], -1);
        // rank up to float32 rounding: singular values above 1e-4 of the largest
        var singular = linalg.svdvals(weight.to(ScalarType.Float64));
        int rank = (int)(singular > singular.max() * 1e-4).sum().item<long>();
        Assert.Equal(Math.Min(result.Kept, (int)weight.shape[0]), rank);
        Assert.False(Same(weight, weightBefore.reshape(weight.shape)), "the patch filters should change");
        var after = model.EncodeImage(pixels);
        var cosine = nn.functional.cosine_similarity(before, after, dim: 1);
        Assert.True(cosine.min().item<float>() > 0.98, $"features of real scenes moved: cosine {cosine.min().item<float>():0.0000}");
    });
}
