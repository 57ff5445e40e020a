using VqganClip.Guidance.ClipartWorld;
using VqganClip.Guidance.Training;
using static TorchSharp.torch;
using static VqganClip.Tests.Training.TrainingTestSupport;

namespace VqganClip.Tests.Training;

/// <summary>Copy negatives: scenes with one object repeated elsewhere, ranked below the drawing by its caption.</summary>
[Collection("Training")]
public class CopyNegativeTests
{
    private static readonly SceneSpec SmallStar = SceneSpec.Single(ObjectKind.Star, ClipartColor.Red, ObjectSize.Small, ScenePosition.Left, SceneBackground.Sky);

    private static Tensor ColourMask(Tensor images, ClipartColor colour)
    {
        var rgb = Palette.Of(colour);
        var c = tensor(new[] { rgb.R / 255f, rgb.G / 255f, rgb.B / 255f }).reshape(1, 3, 1, 1);
        return ((images - c).abs().amax([1]) < 0.1f).to(ScalarType.Float32);   // [N, 64, 64]
    }

    [Fact]
    public void A_copy_negative_keeps_the_drawing_and_adds_the_same_object_elsewhere() => SingleThreaded(() =>
    {
        using var scope = NewDisposeScope();
        var specs = new[] { SmallStar, SmallStar, SmallStar };
        var drawing = ClipartBatches.Render(specs, 1);
        var copies = CopyNegatives.Make(specs, drawing, [0, 1, 2], [0, 0, 0], new Random(4), 1);
        Assert.Equal(new long[] { 3, 3, 64, 64 }, copies.shape);

        var drawn = ColourMask(drawing, ClipartColor.Red);
        var copied = ColourMask(copies, ClipartColor.Red);
        for (int i = 0; i < 3; i++)
        {
            double drawnMass = drawn[i].sum().item<float>(), copiedMass = copied[i].sum().item<float>();
            // one to three more stars of the same size: the red mass grows by whole stars (less where copies overlap)
            Assert.InRange(copiedMass, 1.6 * drawnMass, (1 + CopyNegatives.MaxCopies) * drawnMass + 1);
            // the original star is where it was (a copy's antialiased rim may touch it)
            Assert.True((drawn[i] * copied[i]).sum().item<float>() >= 0.95 * drawnMass);
        }
        // seeded: the same random source gives the same copies, another one other places
        Assert.True(Same(copies, CopyNegatives.Make(specs, drawing, [0, 1, 2], [0, 0, 0], new Random(4), 1)));
        Assert.False(Same(copies, CopyNegatives.Make(specs, drawing, [0, 1, 2], [0, 0, 0], new Random(5), 1)));
    });

    [Fact]
    public void Only_the_chosen_object_is_repeated() => SingleThreaded(() =>
    {
        using var scope = NewDisposeScope();
        var drawing = ClipartBatches.Render([StarAboveHouse], 1);
        var copies = CopyNegatives.Make([StarAboveHouse], drawing, [0], [0], new Random(1), 1);
        Assert.True(ColourMask(copies, ClipartColor.Yellow).sum().item<float>() > 1.6 * ColourMask(drawing, ClipartColor.Yellow).sum().item<float>());
        // the house is never copied (it may only be covered by a star)
        Assert.True(ColourMask(copies, ClipartColor.Blue).sum().item<float>() <= ColourMask(drawing, ClipartColor.Blue).sum().item<float>());

        var (scenes, objects) = CopyNegatives.Choose([SmallStar, StarAboveHouse, SmallStar], 2, new Random(3));
        Assert.Equal(2, scenes.Distinct().Count());
        Assert.All(scenes.Zip(objects), p => Assert.InRange(p.Second, 0, p.First == 1 ? 1 : 0));
    });

    [Fact]
    public void Copies_land_inside_the_frame_away_from_the_original()
    {
        var star = SmallStar.Objects[0];
        var random = new Random(9);
        for (int trial = 0; trial < 50; trial++)
            foreach (var (dx, dy) in CopyNegatives.Shifts(star, 3, 64, random))
            {
                double x = star.CenterX * 64 + dx, y = star.CenterY * 64 + dy, half = star.Extent * 32;
                Assert.InRange(x, half - 0.5, 64 - half + 0.5);
                Assert.InRange(y, half - 0.5, 64 - half + 0.5);
                Assert.True(Math.Sqrt(dx * dx + dy * dy) >= star.Extent * 64 - 1, $"a copy {dx},{dy} pixels from the original overlaps it");
            }
        // a big object in the middle has no place a whole extent away that keeps it inside: no copies rather than bad ones
        var big = SceneObject.Canonical(ObjectKind.Sun, ClipartColor.Yellow, ObjectSize.Big, ScenePosition.Middle) with { Extent = 0.9f };
        Assert.Empty(CopyNegatives.Shifts(big, 3, 64, new Random(1)));
    }

    [Fact]
    public void Mismatched_choices_are_named_rather_than_drawn() => SingleThreaded(() =>
    {
        using var scope = NewDisposeScope();
        var drawing = ClipartBatches.Render([SmallStar, SmallStar], 1);
        Assert.Contains("One object index per chosen scene", Assert.Throws<ArgumentException>(() => CopyNegatives.Make([SmallStar, SmallStar], drawing, [0, 1], [0], new Random(1), 1)).Message);
        Assert.Contains("2 drawings for 1 chosen scenes", Assert.Throws<ArgumentException>(() => CopyNegatives.Make([SmallStar, SmallStar], drawing, [0], [0], new Random(1), 1)).Message);
        Assert.Contains("No scenes", Assert.Throws<ArgumentException>(() => BlobNegatives.Make([SmallStar], drawing.narrow(0, 0, 0), [], [], new Generator(1), 1)).Message);
    });

    [Fact]
    public void Shift_moves_pixels_and_fills_with_zero()
    {
        using var image = arange(2 * 4 * 5, dtype: ScalarType.Float32).reshape(2, 4, 5) + 1;
        using var moved = CopyNegatives.Shift(image, 2, -1);   // two right, one up
        Assert.Equal(image.shape, moved.shape);
        Assert.Equal(image[1, 1, 0].item<float>(), moved[1, 0, 2].item<float>());
        Assert.Equal(image[0, 3, 2].item<float>(), moved[0, 2, 4].item<float>());
        Assert.Equal(0f, moved[0, 3, 3].item<float>());   // came from below the frame
        Assert.Equal(0f, moved[0, 1, 1].item<float>());   // came from left of the frame
    }

    [Fact]
    public void Training_with_copy_negatives_reports_them_and_saves_its_settings() => SingleThreaded(() =>
    {
        var options = TinyClip(steps: 2) with { BatchSize = 8, CopyNegatives = 4, CopyWeight = 2, BlobNegatives = 2 };
        using var trainer = new ClipTrainer(options, renderThreads: 1);
        var metrics = trainer.TrainStep();
        Assert.InRange(metrics["copy_wins"], 0, 1);
        Assert.True(metrics["copy_pair"] > 0);
        Assert.InRange(metrics["blob_wins"], 0, 1);   // both sets in one step, each with its own figures

        var roundTrip = ClipTrainingOptions.FromJson(options.ToJson());
        Assert.Equal(4, roundTrip.CopyNegatives);
        Assert.Equal(2, roundTrip.CopyWeight);
        Assert.Contains("--copy-negatives", Assert.Throws<ArgumentException>(() => (options with { CopyNegatives = 9 }).Validate()).Message);
        Assert.Contains("--copy-weight", Assert.Throws<ArgumentException>(() => (options with { CopyWeight = double.NaN }).Validate()).Message);
    });
}
