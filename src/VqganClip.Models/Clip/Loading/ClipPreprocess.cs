using TorchSharp;
using static TorchSharp.torch;
using VqganClip.Models.Images;

namespace VqganClip.Models.Clip;

/// <summary>
/// CLIP's image preprocessing (clip/clip.py _transform) on tensors: bicubic resize of the short side to the
/// model resolution (torchvision Resize(int): long side = int(size * long / short)), center crop
/// (torchvision's offsets: round((H - size) / 2), banker's rounding as Python), then <see cref="ClipModel.Normalize01"/>.
/// Resizing is <see cref="ImageIO.Resize"/> (torch bicubic with antialiasing, torchvision's tensor equivalent of its PIL path).
/// </summary>
public static class ClipPreprocess
{
    /// <summary>[N,3,H,W] or [3,H,W] floats in [0,1] (integer pixels are read as bytes, /255) -> [N,3,size,size] float32 in [0,1].</summary>
    public static Tensor ResizeAndCenterCrop(Tensor images01, int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "Size must be positive.");
        if (images01.dim() is not (3 or 4) || images01.shape[^3] != 3)
            throw new ArgumentException($"Expected images [N,3,H,W] or [3,H,W], got [{string.Join(",", images01.shape)}].", nameof(images01));

        using var scope = torch.NewDisposeScope();
        var x = images01.dim() == 3 ? images01.unsqueeze(0) : images01;
        x = x.is_floating_point() ? x.to(ScalarType.Float32) : x.to(ScalarType.Float32) / 255.0;
        long h = x.shape[2], w = x.shape[3];
        long shortSide = Math.Min(h, w), longSide = Math.Max(h, w);
        long newLong = (long)((double)size * longSide / shortSide);
        long newH = h <= w ? size : newLong;
        long newW = h <= w ? newLong : size;
        if (newH != h || newW != w)
        {
            x = ImageIO.Resize(x, (int)newW, (int)newH);
            x = x.clamp(0.0, 1.0); // PIL stores bytes: bicubic overshoot is clipped
        }
        long top = (long)Math.Round((newH - size) / 2.0, MidpointRounding.ToEven);
        long left = (long)Math.Round((newW - size) / 2.0, MidpointRounding.ToEven);
        x = x.narrow(2, top, size).narrow(3, left, size).contiguous();
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Resize + center crop to the model's resolution, then CLIP-normalize: ready for EncodeImage.</summary>
    public static Tensor Prepare(ClipModel model, Tensor images01)
    {
        using var scope = torch.NewDisposeScope();
        var cropped = ResizeAndCenterCrop(images01, model.ImageSize);
        return ClipModel.Normalize01(cropped).MoveToOuterDisposeScope();
    }
}
