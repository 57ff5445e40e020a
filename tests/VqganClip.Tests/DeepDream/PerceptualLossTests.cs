using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Losses;
using VqganClip.Models.Onnx;
using static TorchSharp.torch;
using static VqganClip.Tests.DeepDream.DeepDreamTestSupport;

namespace VqganClip.Tests.DeepDream;

/// <summary>The perceptual terms: values against hand computations on tiny tensors, and gradients reaching the picture.</summary>
public sealed class PerceptualLossTests
{
    /// <summary>Layer "double": 2·x; layer "first2": the first two channels.</summary>
    private sealed class HandFeatures : IFeatureExtractor
    {
        public Dictionary<string, Tensor> Features(Tensor rgb01, IReadOnlyCollection<string> layers) =>
            layers.ToDictionary(l => l, l => l switch
            {
                "double" => rgb01 * 2,
                "first2" => rgb01[.., ..2],
                _ => throw new ArgumentException(l),
            });
    }

    private static LossContext Context(Tensor image) => new(image, null!, 0);

    [Fact]
    public void Feature_distance_is_the_weighted_mse_of_the_features()
    {
        using var scope = NewDisposeScope();
        // picture and reference [1,3,1,2]: differences 0.1, 0.2, 0, 0.3, 0.5, 0.1 -> doubled 0.2, 0.4, 0, 0.6, 1.0, 0.2
        var picture = tensor(new float[] { 0.5f, 0.6f, 0.2f, 0.9f, 1.0f, 0.3f }).reshape(1, 3, 1, 2).requires_grad_(true);
        var reference = tensor(new float[] { 0.4f, 0.4f, 0.2f, 0.6f, 0.5f, 0.2f }).reshape(1, 3, 1, 2);
        using var loss = new FeatureDistanceLoss(new HandFeatures(), reference, "double", weight: 3);
        var value = loss.Compute(Context(picture))!;
        double expected = 3 * (0.04 + 0.16 + 0 + 0.36 + 1.0 + 0.04) / 6;   // = 0.8
        Assert.Equal(expected, value.item<float>(), 5);
        value.backward();
        // d/dx of 3·mean((2x-2r)²) = 3·2·(2x-2r)·2/6 = 2·(2x-2r): 0.4, 0.8, 0, 1.2, 2.0, 0.4
        var grad = picture.grad!.flatten().data<float>().ToArray();
        Assert.Equal(new[] { 0.4, 0.8, 0, 1.2, 2.0, 0.4 }, grad.Select(g => Math.Round(g, 4)).ToArray());
    }

    [Fact]
    public void Gram_style_loss_is_the_weighted_mse_of_normalised_gram_matrices()
    {
        using var scope = NewDisposeScope();
        // channel 0 = 1,2,3,4 and channel 1 = 0,1,0,1 (2x2): G = [[30, 6], [6, 2]] / (2·4)
        var picture = tensor(new float[] { 1, 2, 3, 4, 0, 1, 0, 1, 9, 9, 9, 9 }).reshape(1, 3, 2, 2).requires_grad_(true);
        // the style: every value 1 -> G = [[4, 4], [4, 4]] / 8
        var style = ones(1, 3, 2, 2);
        var gram = GramStyleLoss.Gram(picture[.., ..2]);
        Assert.Equal(new[] { 30 / 8.0, 6 / 8.0, 6 / 8.0, 2 / 8.0 }, gram.flatten().data<float>().ToArray().Select(v => (double)v).ToArray());
        using var loss = new GramStyleLoss(new HandFeatures(), style, ["first2"], weight: 2);
        var value = loss.Compute(Context(picture))!;
        // differences [[26, 2], [2, -2]] / 8: squares 676 + 4 + 4 + 4 = 688 over 64, mean of 4, times 2 = 5.375
        Assert.Equal(5.375, value.item<float>(), 4);
        value.backward();
        Assert.True(picture.grad![.., ..2].abs().sum().item<float>() > 0, "the gradient reaches the picture");
        Assert.Equal(0, picture.grad![.., 2].abs().sum().item<float>());   // channel 2 is not in the features
    }

    [Fact]
    public void On_the_ResNet18_both_terms_are_zero_at_their_reference_and_send_gradient_to_the_picture()
    {
        using var scope = NewDisposeScope();
        var reference = Picture(64, 48, 3);
        var other = Picture(64, 48, 4).requires_grad_(true);
        using var feature = new FeatureDistanceLoss(Network, reference, "stage2.block2");
        using var style = new GramStyleLoss(Network, Picture(96, 96, 5));
        Assert.True(feature.Compute(Context(reference))!.item<float>() < 1e-6);
        var f = feature.Compute(Context(other))!;
        var s = style.Compute(Context(other))!;
        Assert.True(f.item<float>() > 0 && s.item<float>() > 0);
        (f + s).backward();
        Assert.True(other.grad!.abs().mean().item<float>() > 0);
        Assert.False(other.grad!.isnan().any().item<bool>());
    }
}
