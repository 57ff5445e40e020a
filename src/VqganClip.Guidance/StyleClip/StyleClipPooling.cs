using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Guidance.StyleClip;

/// <summary>
/// How StyleCLIP's <c>CLIPLoss</c> (criteria/clip_loss.py) brings the whole picture to CLIP's input: nearest
/// up-sampling ×7 then average pooling over size/32 (1024 → 7168 → 224; 256 → 1792 → 224). For a CLIP of input
/// side R the factor is R/32 (7 for 224). No crop, no CLIP mean/std normalisation: the picture goes in as the
/// generator draws it, in about [−1, 1].
/// </summary>
public static class StyleClipPooling
{
    /// <summary>image [B, 3, S, S] (S a multiple of 32) → [B, 3, R, R].</summary>
    public static Tensor Pool(Tensor image, int clipResolution)
    {
        long size = image.shape[2];
        if (image.dim() != 4 || image.shape[3] != size || size % 32 != 0 || clipResolution % 32 != 0)
            throw new ArgumentException($"StyleCLIP's pooling takes a square picture whose side is a multiple of 32 and a CLIP input side that is one too; got [{string.Join(", ", image.shape)}] and {clipResolution}.");
        using var scope = NewDisposeScope();
        double factor = clipResolution / 32;
        var up = F.interpolate(image, scale_factor: [factor, factor], mode: InterpolationMode.Nearest);
        long kernel = size / 32;
        var pooled = kernel == 1 ? up : F.avg_pool2d(up, [kernel, kernel]);
        return pooled.MoveToOuterDisposeScope();
    }
}
