using TorchSharp;
using VqganClip.Models.Clip;
using static TorchSharp.torch;

namespace VqganClip.Guidance.StyleClip;

/// <summary>
/// StyleCLIP's <c>CLIPLoss</c>: <c>1 − CLIP(pool(image), text).logits_per_image / 100</c>, logits = exp(logit_scale)·cos
/// (1 − cos for a trained CLIP, whose scale is 100), on <see cref="StyleClipPooling"/> of the whole picture. The
/// text is encoded once (upstream encodes it again every step: the same numbers).
/// </summary>
public sealed class StyleClipLoss : IDisposable
{
    private readonly ClipModel _clip;
    private readonly Tensor _text; // [T, d], unit rows

    public StyleClipLoss(ClipModel clip, Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentNullException.ThrowIfNull(tokens);
        _clip = clip;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var text = clip.EncodeText(tokens.to(clip.Device));
        _text = (text / text.norm(-1, keepdim: true)).MoveToOuterDisposeScope();
        _text.DetachFromDisposeScope();
    }

    /// <summary>The CLIP input for <paramref name="image"/> [B, 3, S, S] in about [−1, 1].</summary>
    public Tensor ClipInput(Tensor image) => StyleClipPooling.Pool(image, _clip.ImageSize);

    /// <summary>The loss [B, T] (upstream's <c>similarity</c>); for one picture and one text a [1, 1] tensor.</summary>
    public Tensor Compute(Tensor image)
    {
        using var scope = NewDisposeScope();
        var features = _clip.EncodeImage(ClipInput(image));
        features = features / features.norm(-1, keepdim: true);
        var logits = _clip.logit_scale.exp() * matmul(features, _text.t());
        return (1 - logits / 100).MoveToOuterDisposeScope();
    }

    public void Dispose() => _text.Dispose();
}
