using VqganClip.Guidance.ClipartWorld;
using VqganClip.Guidance.Training;
using VqganClip.Models.Clip;
using static TorchSharp.torch;
using static VqganClip.Tests.Training.TrainingTestSupport;

namespace VqganClip.Tests.Training;

/// <summary>Blob negatives: shape-free copies of scenes, and the term that ranks drawings above them.</summary>
[Collection("Training")]
public class BlobNegativeTests
{
    private static readonly SceneSpec Star = SceneSpec.Single(ObjectKind.Star, ClipartColor.Red, ObjectSize.Big, ScenePosition.Left, SceneBackground.Sky);

    [Fact]
    public void A_blob_keeps_the_objects_colour_mass_and_place_but_not_its_outline() => SingleThreaded(() =>
    {
        using var scope = NewDisposeScope();
        var specs = new[] { Star, Star };
        var drawing = ClipartBatches.Render(specs, 1);
        using var generator = new Generator(5);
        var blobs = BlobNegatives.Make(specs, drawing, [0, 1], [0, 0], generator, 1);
        Assert.Equal(new long[] { 2, 3, 64, 64 }, blobs.shape);

        var redRgb = Palette.Of(ClipartColor.Red);
        var red = tensor(new[] { redRgb.R / 255f, redRgb.G / 255f, redRgb.B / 255f }).reshape(1, 3, 1, 1);
        Tensor RedMask(Tensor x) => ((x - red).abs().amax([1]) < 0.2f).to(ScalarType.Float32);   // [N, 64, 64]
        var drawnMask = RedMask(drawing);
        var blobMask = RedMask(blobs);
        for (int i = 0; i < 2; i++)
        {
            double drawnMass = drawnMask[i].sum().item<float>(), blobMass = blobMask[i].sum().item<float>();
            Assert.InRange(blobMass, 0.5 * drawnMass, 2.0 * drawnMass);
            var (dx, dy) = Centroid(drawnMask[i]);
            var (bx, by) = Centroid(blobMask[i]);
            Assert.InRange(Math.Abs(dx - bx), 0, 3);
            Assert.InRange(Math.Abs(dy - by), 0, 3);
            // the outline differs: a good part of the star's pixels are not the blob's and the other way round
            double overlap = (drawnMask[i] * blobMask[i]).sum().item<float>();
            Assert.True(overlap < 0.85 * Math.Max(drawnMass, blobMass), $"blob {i} overlaps the star on {overlap} of {drawnMass} pixels");
        }
        // far from the object the scene is untouched (the sky at the top-right corner)
        Assert.True((blobs[.., .., ..8, 56..] - drawing[.., .., ..8, 56..]).abs().max().item<float>() < 1e-5f);
        // seeded: the same generator seed gives the same blobs
        using var again = new Generator(5);
        Assert.True(Same(blobs, BlobNegatives.Make(specs, drawing, [0, 1], [0, 0], again, 1)));
    });

    [Fact]
    public void Blobs_leave_the_other_object_alone_and_circles_are_never_chosen() => SingleThreaded(() =>
    {
        using var scope = NewDisposeScope();
        var drawing = ClipartBatches.Render([StarAboveHouse], 1);
        using var generator = new Generator(2);
        var blob = BlobNegatives.Make([StarAboveHouse], drawing, [0], [0], generator, 1);
        // the house (bottom half) is as drawn; the star (top half) is not
        Assert.True((blob[.., .., 40.., ..] - drawing[.., .., 40.., ..]).abs().max().item<float>() < 1e-5f);
        Assert.True((blob[.., .., ..32, ..] - drawing[.., .., ..32, ..]).abs().max().item<float>() > 0.3f);

        var circles = Enumerable.Range(0, 10).Select(_ => SceneSpec.Single(ObjectKind.Circle, ClipartColor.Red, ObjectSize.Big, ScenePosition.Middle)).ToArray();
        var mixed = circles.Append(Star).ToArray();
        var (scenes, objects) = BlobNegatives.Choose(mixed, 5, new Random(1));
        Assert.Equal(new[] { 10 }, scenes);
        Assert.Equal(new[] { 0 }, objects);
    });

    [Fact]
    public void Training_with_blob_negatives_reports_them_and_saves_its_settings() => SingleThreaded(() =>
    {
        var options = TinyClip(steps: 2) with { BatchSize = 8, BlobNegatives = 4, BlobWeight = 2 };
        using var trainer = new ClipTrainer(options, renderThreads: 1);
        var metrics = trainer.TrainStep();
        Assert.InRange(metrics["blob_wins"], 0, 1);
        Assert.True(metrics["blob_pair"] > 0);
        Assert.False(metrics.ContainsKey("guided_pair"));

        var roundTrip = ClipTrainingOptions.FromJson(options.ToJson());
        Assert.Equal(4, roundTrip.BlobNegatives);
        Assert.Equal(2, roundTrip.BlobWeight);
        var e = Assert.Throws<ArgumentException>(() => (options with { BlobNegatives = 9 }).Validate());
        Assert.Contains("--blob-negatives", e.Message);
        e = Assert.Throws<ArgumentException>(() => (options with { BlobWeight = -1 }).Validate());
        Assert.Contains("--blob-weight", e.Message);
    });

    [Fact]
    public void Paired_negatives_add_their_weighted_term_for_the_captions_they_name() => SingleThreaded(() =>
    {
        using var clip = new ClipModel(TinyClip().Model);
        using var scope = NewDisposeScope();
        var (images, tokens) = HeldOutBatch(clip, 6);
        using var _ = no_grad();
        var (contrastive, _) = ClipTrainer.ContrastiveLoss(clip, images, tokens);
        // a negative equal to its caption's own drawing is a tie: ln 2 per pair, the drawing never strictly wins
        var tie = new ClipTrainer.PairedNegatives(images.index_select(0, tensor(new long[] { 1, 3 })), [1, 3], 0.25);
        var grey = new ClipTrainer.PairedNegatives(full(1, 3, 64, 64, 0.5f), [0], 2);
        var (loss, _, figures) = ClipTrainer.ContrastiveLossWithNegatives(clip, images, tokens, [tie, grey]);
        Assert.Equal(Math.Log(2), figures[0].PairLoss, 4);
        Assert.Equal(0, figures[0].DrawingWins);

        var text = clip.EncodeText(tokens)[0];
        text = text / text.norm();
        var drawing = clip.EncodeImage(ClipModel.Normalize01(images.narrow(0, 0, 1)))[0];
        var negative = clip.EncodeImage(ClipModel.Normalize01(full(1, 3, 64, 64, 0.5f)))[0];
        double d = (drawing / drawing.norm() * text).sum().item<float>(), g = (negative / negative.norm() * text).sum().item<float>();
        double expected = Math.Log(1 + Math.Exp(clip.logit_scale.exp().item<float>() * (g - d)));
        Assert.Equal(expected, figures[1].PairLoss, 4);
        Assert.Equal(contrastive.item<float>() + 0.25 * Math.Log(2) + 2 * expected, loss.item<float>(), 4);

        var e = Assert.Throws<ArgumentException>(() => ClipTrainer.ContrastiveLossWithNegatives(clip, images, tokens, [grey with { CaptionIndex = [6] }]));
        Assert.Contains("outside the batch", e.Message);
    });

    private static (double X, double Y) Centroid(Tensor mask)
    {
        var ys = arange(64, dtype: ScalarType.Float32).reshape(64, 1);
        var xs = arange(64, dtype: ScalarType.Float32).reshape(1, 64);
        double total = mask.sum().item<float>();
        return ((mask * xs).sum().item<float>() / total, (mask * ys).sum().item<float>() / total);
    }
}
