using System.Globalization;
using TorchSharp;
using VqganClip.Guidance.Autograd;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>How the VQGAN latent starts.</summary>
public enum LatentInit
{
    /// <summary>Every latent position a random codebook entry (the original: <c>one_hot(randint) @ codebook</c>).</summary>
    RandomCodes,
    /// <summary>Gaussian noise with the codebook's per-channel mean and standard deviation.</summary>
    Noise,
    /// <summary>The VQGAN encoding of an init image (resized to the generator's size).</summary>
    Image,
    /// <summary>
    /// The VQGAN encoding of a blank white canvas: a blank page rather than a mosaic of random codes, which
    /// guidance on a small codebook often cannot clear (see <see cref="FlatLatent"/>).
    /// </summary>
    Flat,
}

/// <summary>
/// The VQGAN+CLIP generator: a latent z [1, embed_dim, H/f, W/f] is optimised; each render snaps it to the codebook
/// (straight-through), decodes it, and maps [-1,1] to [0,1] with the gradient-friendly clamp of the original
/// (<c>synth</c>). After each step z can be clamped to the codebook's per-channel range (the original's z_min/z_max).
/// </summary>
public sealed class VqganLatentGenerator : ImageGeneratorBase
{
    private readonly VqganModel _vqgan;
    private readonly Tensor? _initImage;
    private readonly Tensor _zMin, _zMax;

    /// <param name="vqgan">The (frozen) VQGAN; not owned.</param>
    /// <param name="width">Requested width; rounded down to a multiple of the downsampling factor (at least one token).</param>
    /// <param name="height">Requested height; rounded likewise.</param>
    /// <param name="init">How z starts.</param>
    /// <param name="initImage">For <see cref="LatentInit.Image"/>: an image [1,3,h,w] in [0,1] (any size; resized). Copied.
    /// May be null when the latent will come from <see cref="ImageGeneratorBase.LoadState"/> (resuming).</param>
    /// <param name="clampToCodebookRange">Clamp z after each step to the codebook's per-channel min/max (the original does).</param>
    /// <param name="snapToCodebook">Snap z to the codebook before decoding (the method; false decodes z as is, to show what the codebook adds).</param>
    public VqganLatentGenerator(VqganModel vqgan, int width, int height, LatentInit init = LatentInit.RandomCodes,
        Tensor? initImage = null, bool clampToCodebookRange = true, bool snapToCodebook = true)
        : base("vqgan", RoundToTokens(width, vqgan.DownsamplingFactor), RoundToTokens(height, vqgan.DownsamplingFactor), vqgan.Codebook.device)
    {
        _vqgan = vqgan;
        Init = init;
        ClampToCodebookRange = clampToCodebookRange;
        SnapToCodebook = snapToCodebook;
        if (init == LatentInit.Image && initImage is not null)
        {
            if (initImage.dim() != 4 || initImage.shape[0] != 1 || initImage.shape[1] != 3)
                throw new ArgumentException($"The init image must be [1,3,H,W] in [0,1]; got [{string.Join(", ", initImage.shape)}].", nameof(initImage));
            _initImage = initImage.detach().to_type(ScalarType.Float32).to(Device).clone();
        }
        int f = vqgan.DownsamplingFactor;
        var codebook = vqgan.Codebook;
        EmbedDim = (int)codebook.shape[1];
        TokensX = Width / f;
        TokensY = Height / f;
        Z = AddParameter("z", 1, EmbedDim, TokensY, TokensX);
        using (no_grad())
        using (NewDisposeScope())
        {
            _zMin = codebook.min(0).values.view(1L, -1, 1, 1).clone().DetachFromDisposeScope();
            _zMax = codebook.max(0).values.view(1L, -1, 1, 1).clone().DetachFromDisposeScope();
        }
    }

    public LatentInit Init { get; }
    public bool ClampToCodebookRange { get; }
    public bool SnapToCodebook { get; }
    public int EmbedDim { get; }
    public int TokensX { get; }
    public int TokensY { get; }

    /// <summary>The optimised latent [1, embed_dim, H/f, W/f] (before snapping to the codebook).</summary>
    public Parameter Z { get; }

    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["init"] = Init.ToString(),
        ["clampToCodebookRange"] = ClampToCodebookRange.ToString(CultureInfo.InvariantCulture),
        ["snapToCodebook"] = SnapToCodebook.ToString(CultureInfo.InvariantCulture),
        ["downsamplingFactor"] = _vqgan.DownsamplingFactor.ToString(CultureInfo.InvariantCulture),
        ["codebookSize"] = _vqgan.Codebook.shape[0].ToString(CultureInfo.InvariantCulture),
    };

    private static int RoundToTokens(int size, int f)
    {
        if (size < f) throw new ArgumentOutOfRangeException(nameof(size), $"The VQGAN works in blocks of {f} pixels: the image must be at least {f}x{f}; got {size}.");
        return size / f * f;
    }

    protected override void InitializeCore(Generator rng)
    {
        var codebook = _vqgan.Codebook;
        long n = codebook.shape[0];
        Tensor z;
        switch (Init)
        {
            case LatentInit.RandomCodes:
                z = RandomCodeLatent(codebook, TokensY, TokensX, rng);
                break;
            case LatentInit.Flat:
                z = FlatLatent(_vqgan, TokensY * _vqgan.DownsamplingFactor, TokensX * _vqgan.DownsamplingFactor);
                break;
            case LatentInit.Noise:
            {
                var mean = codebook.mean(new long[] { 0 }).view(1L, -1, 1, 1);
                var std = codebook.std(0).view(1L, -1, 1, 1);
                z = randn(new long[] { 1, EmbedDim, TokensY, TokensX }, generator: rng).to(Device) * std + mean;
                break;
            }
            default:
            {
                if (_initImage is null)
                    throw new InvalidOperationException("LatentInit.Image needs an init image: pass initImage to the constructor (or LoadState a saved latent).");
                var img = nn.functional.interpolate(_initImage!, new long[] { Height, Width }, mode: InterpolationMode.Bicubic,
                    align_corners: false, antialias: true).clamp(0, 1);
                var (zq, indices) = _vqgan.EncodeQuantized(img * 2 - 1); // taming's encode(): the original starts from the quantised latent
                indices.Dispose();
                z = zq;
                break;
            }
        }
        Z.copy_(z);
    }

    public override Tensor Render()
    {
        EnsureInitialized();
        return Synthesize(_vqgan, Z, SnapToCodebook);
    }

    /// <summary>
    /// The original's <c>synth</c> for latents z [b, embed_dim, h, w]: snap to the codebook (straight-through, unless
    /// <paramref name="snap"/> is false), decode, and map [-1,1] to [0,1] with <c>ClampWithGrad</c>. Differentiable in z.
    /// </summary>
    public static Tensor Synthesize(VqganModel vqgan, Tensor z, bool snap = true)
    {
        using var scope = NewDisposeScope();
        // Snapping works on [b, h, w, d] rows, so the snapped latent comes back with channels-last strides. The decoder
        // is given a contiguous (NCHW) copy: fed channels-last, libtorch keeps every activation of the decoder
        // channels-last, and its channels-last GroupNorm backward alone took a quarter of a step at config C
        // (docs/performance.md). The copy is 1/f² of a picture's size and its backward a plain copy.
        var zq = snap ? CodebookSnap.Snap(z.permute(0, 2, 3, 1), vqgan.Codebook).permute(0, 3, 1, 2).contiguous() : z.contiguous();
        var decoded = vqgan.Decode(zq);
        return GradientTricks.ClampWithGrad(decoded.add(1).div(2), 0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Pictures [N,3,H,W] in [0,1] through the VQGAN without gradient: encoded, snapped to the nearest codebook entries
    /// and decoded, back in [0,1]. What a guided picture of them looks like at best (and what an init image starts as).
    /// </summary>
    public static Tensor Reconstruct(VqganModel vqgan, Tensor images01)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (zq, indices) = vqgan.EncodeQuantized(images01 * 2 - 1);   // taming works on [-1, 1] pixels
        indices.Dispose();
        return vqgan.Decode(zq).add(1).div(2).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The quantised VQGAN encoding [1, embed_dim, h/f, w/f] of a uniform canvas of <paramref name="grey"/> (in [0,1]):
    /// with the shipped clipart models, guidance from random codes settles in code mosaics far worse than a drawing
    /// (CLIP loss 0.58 against 0.23 for "a red circle on the left") while from a blank canvas it reaches 0.28-0.34.
    /// White by default: a VQGAN trained on clipart reconstructs a white page as white, but mid-grey (a colour it has
    /// only seen in small details) as a patchwork.
    /// </summary>
    public static Tensor FlatLatent(VqganModel vqgan, int height, int width, float grey = 1f)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var canvas = full(new long[] { 1, 3, height, width }, grey * 2 - 1, device: vqgan.Codebook.device);
        var (zq, indices) = vqgan.EncodeQuantized(canvas);
        indices.Dispose();
        return zq.MoveToOuterDisposeScope();
    }

    /// <summary>The original's start, <c>one_hot(randint) @ codebook</c>: a latent [1, embed_dim, tokensY, tokensX] of random codebook entries.</summary>
    public static Tensor RandomCodeLatent(Tensor codebook, int tokensY, int tokensX, Generator rng)
    {
        using var scope = NewDisposeScope();
        long n = codebook.shape[0];
        var idx = randint(n, new long[] { (long)tokensY * tokensX }, dtype: ScalarType.Int64, generator: rng).to(codebook.device);
        var oneHot = nn.functional.one_hot(idx, n).to_type(ScalarType.Float32);
        return oneHot.matmul(codebook).view(1, tokensY, tokensX, codebook.shape[1]).permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>The codebook indices z currently snaps to, [TokensY, TokensX].</summary>
    public Tensor CurrentCodes()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return CodebookSnap.NearestIndices(Z.permute(0, 2, 3, 1), _vqgan.Codebook).view((long)TokensY, TokensX).MoveToOuterDisposeScope();
    }

    public override void PostStep()
    {
        if (!ClampToCodebookRange) return;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Z.copy_(Z.maximum(_zMin).minimum(_zMax));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _initImage?.Dispose();
            _zMin.Dispose();
            _zMax.Dispose();
        }
        base.Dispose(disposing);
    }
}
