using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// upstream <c>LinearFBSP</c> (model/esresnet/fbsp.py): a learned "Fourier basis" with per-bin parameters
/// <c>m</c> (window power), <c>fb</c> (bandwidth) and <c>fc</c> (centre frequency), [bins] each. The complex
/// weights [bins, in, 2] (re, im) are materialised on every call from t = π·linspace(−1, 1, in) + eps:
/// kernel exp(−i·fc·t), window sinc(fb·t/(m+eps)) raised to the complex power (m + 0i), scale √fb, and
/// 1/√in when <c>normalized</c>. All of it in real arithmetic with upstream's operations, no FFT, so it
/// rounds as upstream does. <c>bias</c> is [bins, 2] or, as in AudioCLIP (bias=False), an empty [0] tensor
/// that is kept only so the state dict matches.
/// </summary>
public sealed class LinearFbsp : nn.Module<Tensor, Tensor>
{
    private const double Eps = 1e-8;

#pragma warning disable IDE1006 // reference parameter names
    public readonly Parameter m;
    public readonly Parameter fb;
    public readonly Parameter fc;
    public readonly Parameter bias;
#pragma warning restore IDE1006

    public LinearFbsp(int outFeatures, bool normalized, bool withBias = false) : base("LinearFBSP")
    {
        OutFeatures = outFeatures;
        Normalized = normalized;
        m = new Parameter(zeros(outFeatures));
        fb = new Parameter(ones(outFeatures));
        fc = new Parameter(arange(outFeatures, dtype: ScalarType.Float32));
        bias = new Parameter(withBias ? normal(0.0, 0.5, [outFeatures, 2]) : empty(0));
        RegisterComponents();
    }

    public int OutFeatures { get; }
    public bool Normalized { get; }

    /// <summary>upstream <c>sinc</c>: sin(x)/x, 1 where x is exactly 0.</summary>
    private static Tensor Sinc(Tensor x) => where(x.eq(0), ones_like(x), sin(x) / x);

    /// <summary>upstream <c>power</c>: x1^x2 for complex tensors [..., 2] in polar form.</summary>
    private static Tensor Power(Tensor x1, Tensor x2)
    {
        var re = x1[TensorIndex.Ellipsis, 0];
        var im = x1[TensorIndex.Ellipsis, 1];
        var magnitudes = (re.pow(2) + im.pow(2)).pow(0.5);
        var phases = im.atan2(re);
        var powerReal = x2[TensorIndex.Ellipsis, 0];
        var powerImag = x2[TensorIndex.Ellipsis, 1];
        var magOut = magnitudes.pow(2).pow(0.5 * powerReal) * exp(-powerImag * phases);
        var angle = powerReal * phases + 0.5 * powerImag * magnitudes.pow(2).log();
        return magOut.unsqueeze(-1) * stack([angle.cos(), angle.sin()], dim: -1);
    }

    /// <summary>upstream <c>_materialize_weights</c> for <paramref name="inFeatures"/> real inputs: [bins, in, 2].</summary>
    public Tensor MaterializeWeights(long inFeatures, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var t = (linspace(-1.0, 1.0, inFeatures, dtype: dtype, device: device).reshape(1, -1, 1) * Math.PI) + Eps;
        var mm = m.reshape(-1, 1, 1);
        var fbb = fb.reshape(-1, 1, 1);
        var fcc = fc.reshape(-1, 1, 1);

        var kernel = cat([cos(fcc * t), -sin(fcc * t)], dim: -1);                 // complex [bins, in, 2]
        var scale = fbb.sqrt();                                                     // real
        var win = Sinc(fbb * t / (mm + Eps));                                       // real [bins, in, 1]
        win = Power(cat([win, zeros_like(win)], dim: -1), cat([mm, zeros_like(mm)], dim: -1)); // complex

        var winRe = win[TensorIndex.Ellipsis, TensorIndex.Slice(0, 1)];
        var winIm = win[TensorIndex.Ellipsis, TensorIndex.Slice(1, null)];
        var kRe = kernel[TensorIndex.Ellipsis, TensorIndex.Slice(0, 1)];
        var kIm = kernel[TensorIndex.Ellipsis, TensorIndex.Slice(1, null)];
        var weights = scale * cat([winRe * kRe - winIm * kIm, winRe * kIm + winIm * kRe], dim: -1);
        if (Normalized)
            weights = weights / Math.Pow(inFeatures, 0.5);
        return weights.MoveToOuterDisposeScope();
    }

    /// <summary>Real frames [..., in] → spectrum [..., bins, 2] (re, im), as upstream's forward for a real input.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var weights = MaterializeWeights(x.shape[^1], x.dtype, x.device);
        var y = stack([F.linear(x, weights[TensorIndex.Ellipsis, 0]), F.linear(x, weights[TensorIndex.Ellipsis, 1])], dim: -1);
        if (bias.numel() == OutFeatures * 2)
            y = y + bias;
        return y.MoveToOuterDisposeScope();
    }
}
