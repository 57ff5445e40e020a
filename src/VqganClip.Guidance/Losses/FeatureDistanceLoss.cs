using VqganClip.Models.Onnx;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Losses;

/// <summary>
/// A perceptual "stay close to this picture" term: <c>weight · MSE(φ(picture), φ(reference))</c>, φ a network's
/// feature map at one layer (e.g. <see cref="OnnxResNet"/>'s <c>stage2.block2</c>): the picture may change its
/// pixels as long as what the network sees there stays. The reference's features are computed once, at the
/// picture's size (the reference is resized to it, bicubic, at the first step).
/// </summary>
public sealed class FeatureDistanceLoss : IRegularizer
{
    private readonly IFeatureExtractor _features;
    private readonly Tensor _reference;
    private Tensor? _target;

    /// <param name="features">The network (not owned).</param>
    /// <param name="reference">RGB [1,3,H,W] in [0,1] (copied).</param>
    public FeatureDistanceLoss(IFeatureExtractor features, Tensor reference, string layer = "stage2.block2", double weight = 1)
    {
        _features = features ?? throw new ArgumentNullException(nameof(features));
        ArgumentNullException.ThrowIfNull(reference);
        _reference = reference.detach().clone().DetachFromDisposeScope();   // kept across steps, whatever scope made this
        Layer = layer;
        Weight = weight;
    }

    public string Layer { get; }
    public double Weight { get; }
    public string Name => "feature";

    public Tensor? Compute(LossContext context)
    {
        if (Weight == 0) return null;
        using var scope = NewDisposeScope();
        var image = context.Image;
        if (_target is null || _target.device_type != image.device_type)
        {
            using var noGrad = no_grad();
            var reference = _reference.to(image.device);
            if (reference.shape[2] != image.shape[2] || reference.shape[3] != image.shape[3])
                reference = VqganClip.Models.Images.ImageIO.Resize(reference, (int)image.shape[3], (int)image.shape[2]).clamp(0, 1);
            _target?.Dispose();
            // Kept across steps: out of every dispose scope (this one and the caller's).
            _target = _features.Features(reference, [Layer])[Layer].detach().DetachFromDisposeScope();
        }
        var current = _features.Features(image, [Layer])[Layer];
        return (nn.functional.mse_loss(current, _target) * Weight).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _reference.Dispose();
        _target?.Dispose();
        _target = null;
    }
}
