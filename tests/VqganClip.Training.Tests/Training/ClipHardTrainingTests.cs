using System.Text.Json.Nodes;
using VqganClip.Clipart;
using VqganClip.Training;
using VqganClip.Models.Clip;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.Training;

/// <summary>The CLIP trainer's shape-reading options: kind-variant hard negatives, fine-tuning from a file.</summary>
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
        Assert.Contains("BatchSize (16) must be a multiple of KindVariants (3)", e.Message);
    }

    [Fact]
    public void Options_round_trip_and_runs_saved_before_the_new_options_read_as_plain_runs()
    {
        var options = TinyClip() with { KindVariants = 4, BatchSize = 16 };
        var back = ClipTrainingOptions.FromJson(options.ToJson());
        Assert.Equal(4, back.KindVariants);

        var old = options.ToJson();
        old.Remove("kind_variants");
        old.Remove("init_from");
        var plain = ClipTrainingOptions.FromJson(JsonNode.Parse(old.ToJsonString())!.AsObject());
        Assert.Equal(1, plain.KindVariants);
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
