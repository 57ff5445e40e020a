using TorchSharp;
using VqganClip.Models.Images;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Running;

/// <summary>
/// A picture kept after its step, in managed memory (float CHW in [0,1]) rather than as a native tensor, so reports,
/// snapshots and histories never hold libtorch memory the GC cannot see. Convert on demand.
/// </summary>
public sealed class RenderedImage
{
    private readonly float[] _data;

    public RenderedImage(int step, int width, int height, float[] chw)
    {
        if (chw.Length != 3 * width * height) throw new ArgumentException($"Expected {3 * width * height} values for a {width}x{height} RGB image; got {chw.Length}.");
        Step = step;
        Width = width;
        Height = height;
        _data = chw;
    }

    /// <summary>Copies a [1,3,H,W] or [3,H,W] tensor (detached; any device) into managed memory.</summary>
    public static RenderedImage FromTensor(Tensor image, int step)
    {
        using var scope = NewDisposeScope();
        var t = image.detach();
        if (t.dim() == 4) t = t[0];
        if (t.dim() != 3 || t.shape[0] != 3) throw new ArgumentException($"Expected an RGB image [1,3,H,W]; got [{string.Join(", ", image.shape)}].");
        var data = t.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        return new RenderedImage(step, (int)t.shape[2], (int)t.shape[1], data);
    }

    /// <summary>Steps completed when this picture was rendered.</summary>
    public int Step { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>The pixels, channel-major (R plane, G plane, B plane), each row-major, values in [0,1].</summary>
    public ReadOnlySpan<float> Pixels => _data;

    /// <summary>A new CPU tensor [1,3,H,W]; the caller owns it.</summary>
    public Tensor ToTensor() => tensor(_data, new long[] { 1, 3, Height, Width });

    /// <summary>PNG bytes, optionally with tEXt chunks.</summary>
    public byte[] ToPng(IReadOnlyDictionary<string, string>? textChunks = null)
    {
        using var t = ToTensor();
        return ImageIO.ToPngBytes(t, textChunks);
    }

    /// <summary>Writes a PNG file with optional tEXt chunks.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? textChunks = null)
    {
        using var t = ToTensor();
        ImageIO.Save(t, path, textChunks);
    }
}
