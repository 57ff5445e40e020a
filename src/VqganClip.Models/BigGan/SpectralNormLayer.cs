using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.BigGan;

/// <summary>
/// A layer under <c>torch.nn.utils.spectral_norm</c> (dim 0, one power iteration), with PyTorch's state-dict names:
/// parameter <c>weight_orig</c>, buffers <c>weight_u</c> [out] and <c>weight_v</c> [in·kh·kw], and <c>bias</c> when the layer has one.
/// <list type="bullet">
/// <item><b>Eval mode</b> (inference; what Big Sleep and upstream's demos use): no power iteration. The effective weight
/// W = weight_orig / σ, σ = u·(W_mat v), W_mat = weight_orig.reshape(out, -1), is computed once ("folded") and kept,
/// without grad; <see cref="Fold"/> recomputes it, and runs by itself when the layer is switched to eval mode or moved
/// to another device or dtype. After changing weight_orig / u / v by other means in eval mode, call <see cref="Fold"/>.</item>
/// <item><b>Training mode</b> (for a trainer): each forward runs PyTorch's training step: under no_grad
/// v = normalize(W_matᵀu, eps), u = normalize(W_mat v, eps), written back into the buffers; then σ = u·(W_mat v) with u, v
/// cloned, W = weight_orig/σ, so gradients reach weight_orig (and bias). Switching back to eval re-folds with the
/// updated buffers, which is what an export should save.</item>
/// </list>
/// eps is BigGAN's <c>config.eps</c> (pytorch-pretrained-BigGAN passes it to spectral_norm).
/// </summary>
public abstract class SpectralNormLayer : nn.Module<Tensor, Tensor>
{
    private readonly long _outFeatures;
    private Tensor? _folded;

    protected SpectralNormLayer(string name, long[] weightShape, bool hasBias, double eps) : base(name)
    {
        Eps = eps;
        _outFeatures = weightShape[0];
        long fanIn = weightShape.Skip(1).Aggregate(1L, (a, b) => a * b);
        var w = empty(weightShape);
        // nn.Linear / nn.Conv2d default initialisation, then spectral_norm's random unit u, v.
        nn.init.kaiming_uniform_(w, a: Math.Sqrt(5));
        if (hasBias)
        {
            double bound = 1.0 / Math.Sqrt(fanIn);
            // PyTorch's spectral_norm deletes `weight` and registers weight_orig after it: bias comes first in state_dict().
            bias = new Parameter(empty(_outFeatures).uniform_(-bound, bound));
            register_parameter("bias", bias);
        }
        weight_orig = new Parameter(w);
        register_parameter("weight_orig", weight_orig);
        weight_u = F.normalize(randn(_outFeatures), dim: 0, eps: eps);
        weight_v = F.normalize(randn(fanIn), dim: 0, eps: eps);
        register_buffer("weight_u", weight_u);
        register_buffer("weight_v", weight_v);
        ModuleTensors.DetachFromDisposeScopes(this);
    }

    // Field names are the state-dict names.
#pragma warning disable IDE1006
    protected readonly Parameter weight_orig;
    protected readonly Parameter? bias;
    protected readonly Tensor weight_u;
    protected readonly Tensor weight_v;
#pragma warning restore IDE1006

    /// <summary>eps of the power iteration's normalisation.</summary>
    public double Eps { get; }

    /// <summary>The stored weight before normalisation (a parameter: do not dispose).</summary>
    public Parameter WeightOrig => weight_orig;

    /// <summary>The layer's bias, or null (a parameter: do not dispose).</summary>
    public Parameter? Bias => bias;

    /// <summary>The power-iteration vectors (buffers: do not dispose).</summary>
    public Tensor WeightU => weight_u;

    /// <summary>The power-iteration vectors (buffers: do not dispose).</summary>
    public Tensor WeightV => weight_v;

    /// <summary>σ = u·(W_mat v) from the current buffers, as a [1] tensor without grad (the caller disposes it).</summary>
    public Tensor Sigma()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return SigmaOf(weight_orig, weight_u, weight_v).reshape(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The weight eval mode uses, weight_orig/σ without grad (kept by the layer: do not dispose). Folded on first use
    /// and again after <see cref="Fold"/>, a switch to eval, or a move to another device or dtype.
    /// </summary>
    public Tensor FoldedWeight
    {
        get
        {
            if (_folded is null || _folded.IsInvalid || _folded.device != weight_orig.device || _folded.dtype != weight_orig.dtype)
                Fold();
            return _folded!;
        }
    }

    /// <summary>Recomputes the eval-mode weight from weight_orig, weight_u and weight_v (no power iteration).</summary>
    public void Fold()
    {
        using var noGrad = no_grad();
        Tensor folded;
        using (var scope = NewDisposeScope())
        {
            var sigma = SigmaOf(weight_orig, weight_u, weight_v);
            folded = weight_orig.div(sigma).MoveToOuterDisposeScope();
        }
        // Kept across the callers' dispose scopes: it lives as long as the layer (or until the next fold).
        folded.DetachFromDisposeScope();
        _folded?.Dispose();
        _folded = folded;
    }

    /// <summary>Sets the mode; switching to eval folds the weight with the current buffers.</summary>
    public override void train(bool train = true)
    {
        base.train(train);
        if (!train) Fold();
    }

    public override Tensor forward(Tensor x)
    {
        if (!training) return Apply(x, FoldedWeight);
        using var scope = NewDisposeScope();
        var weight = TrainingWeight();
        return Apply(x, weight).MoveToOuterDisposeScope();
    }

    /// <summary>The layer's operation (linear or convolution) with the given effective weight.</summary>
    protected abstract Tensor Apply(Tensor x, Tensor weight);

    /// <summary>PyTorch's training-mode spectral norm: one power iteration (buffers updated), then weight_orig/σ with grad.</summary>
    private Tensor TrainingWeight()
    {
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var mat = weight_orig.reshape(_outFeatures, -1);
            var v = F.normalize(mat.t().mv(weight_u), dim: 0, eps: Eps);
            var u = F.normalize(mat.mv(v), dim: 0, eps: Eps);
            weight_v.copy_(v);
            weight_u.copy_(u);
        }
        // clone() as PyTorch does, so the σ of this forward keeps the values it was computed with.
        var sigma = SigmaOf(weight_orig, weight_u.clone(), weight_v.clone());
        return weight_orig.div(sigma);
    }

    private Tensor SigmaOf(Tensor weightOrig, Tensor u, Tensor v) =>
        u.dot(weightOrig.reshape(_outFeatures, -1).mv(v));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _folded?.Dispose();
            _folded = null;
        }
        base.Dispose(disposing);
    }
}

/// <summary><c>snlinear</c>: spectral-norm nn.Linear (weight_orig [out, in]).</summary>
public sealed class SNLinear : SpectralNormLayer
{
    public SNLinear(long inFeatures, long outFeatures, bool hasBias, double eps)
        : base(nameof(SNLinear), [outFeatures, inFeatures], hasBias, eps)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    protected override Tensor Apply(Tensor x, Tensor weight) => F.linear(x, weight, bias);
}

/// <summary>
/// <c>snconv2d</c>: spectral-norm nn.Conv2d, stride 1, zero padding (weight_orig [out, in, k, k]). Runs through
/// <see cref="Runtime.NarrowConvolution"/>: libtorch's CPU float32 input gradient is wrong below 16 output channels.
/// </summary>
public sealed class SNConv2d : SpectralNormLayer
{
    public SNConv2d(long inChannels, long outChannels, long kernelSize, long padding, bool hasBias, double eps)
        : base(nameof(SNConv2d), [outChannels, inChannels, kernelSize, kernelSize], hasBias, eps)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Padding = padding;
    }

    public long InChannels { get; }
    public long OutChannels { get; }
    public long KernelSize { get; }
    public long Padding { get; }

    protected override Tensor Apply(Tensor x, Tensor weight) => Runtime.NarrowConvolution.Forward(x, weight, bias, Padding);
}
