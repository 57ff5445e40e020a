using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Pix2Pix;

/// <summary>upstream's <c>--gan_mode</c>, plus the older discriminators that end in a Sigmoid.</summary>
public enum GanMode
{
    /// <summary>BCEWithLogitsLoss on the discriminator's logits (upstream's default for pix2pix).</summary>
    Vanilla,
    /// <summary>MSELoss (least-squares GAN).</summary>
    LsGan,
    /// <summary>BCELoss on probabilities: upstream before 2018 (use_sigmoid=True, GANLoss(use_lsgan=False)).</summary>
    Sigmoid,
}

/// <summary>
/// upstream's <c>GANLoss</c> (models/networks.py): the loss of a patch map against an all-real (1) or all-fake (0)
/// target of its shape, averaged over every patch and image.
/// </summary>
public static class GanLoss
{
    public static Tensor Compute(Tensor prediction, bool targetIsReal, GanMode mode)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        using var scope = NewDisposeScope();
        var target = targetIsReal ? ones_like(prediction) : zeros_like(prediction);
        var loss = mode switch
        {
            GanMode.Vanilla => F.binary_cross_entropy_with_logits(prediction, target),
            GanMode.LsGan => F.mse_loss(prediction, target),
            GanMode.Sigmoid => F.binary_cross_entropy(prediction, target),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        return loss.MoveToOuterDisposeScope();
    }

    public static GanMode Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "vanilla" => GanMode.Vanilla,
        "lsgan" => GanMode.LsGan,
        "sigmoid" => GanMode.Sigmoid,
        _ => throw new ArgumentException($"Unknown GAN mode '{value}': use vanilla (BCE with logits), lsgan (MSE) or sigmoid (BCE after a Sigmoid in D)."),
    };

    public static string Name(this GanMode mode) => mode switch { GanMode.Vanilla => "vanilla", GanMode.LsGan => "lsgan", _ => "sigmoid" };
}
