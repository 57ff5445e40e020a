using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// nn.Conv2d(in, out, 4×4 (or k), stride, padding 1, bias) with PyTorch's parameter names <c>weight</c> [out, in, k, k]
/// and <c>bias</c>. Its own module rather than TorchSharp's Conv2d so the forward can go through
/// <see cref="NarrowConvolution"/>: the discriminator's last convolution (1 filter) and small-ngf networks' layers
/// (ngf 12: 12, 24 and 48 channels) have channel counts that oneDNN's padded blocks compute from stale memory.
/// </summary>
public sealed class Pix2PixConv2d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Parameter weight;
    private readonly Parameter? bias;
#pragma warning restore IDE1006
    private readonly long[] _stride;
    private readonly long[] _padding;

    public Pix2PixConv2d(long inChannels, long outChannels, long kernel, long stride, long padding, bool hasBias) : base("Conv2d")
    {
        weight = new Parameter(zeros(outChannels, inChannels, kernel, kernel));
        register_parameter("weight", weight);
        if (hasBias)
        {
            bias = new Parameter(zeros(outChannels));
            register_parameter("bias", bias);
        }
        _stride = [stride, stride];
        _padding = [padding, padding];
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;

    public override Tensor forward(Tensor x) => NarrowConvolution.Forward(x, weight, bias, _stride, _padding, [1, 1], 1);
}

/// <summary>
/// nn.ConvTranspose2d(in, out, 4, stride 2, padding 1, bias): <c>weight</c> [in, out, k, k], <c>bias</c>. Computed through
/// <see cref="NarrowConvolution.Transposed"/>: output channels that are not a multiple of 16 (the outermost
/// up-convolution's 3, a small ngf's 12 or 24) take oneDNN's padded blocks, which read stale memory.
/// Pix2PixConvGradientTests checks values and gradients against float64.
/// </summary>
public sealed class Pix2PixConvTranspose2d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Parameter weight;
    private readonly Parameter? bias;
#pragma warning restore IDE1006
    private readonly long[] _stride;
    private readonly long[] _padding;

    public Pix2PixConvTranspose2d(long inChannels, long outChannels, long kernel, long stride, long padding, bool hasBias) : base("ConvTranspose2d")
    {
        weight = new Parameter(zeros(inChannels, outChannels, kernel, kernel));
        register_parameter("weight", weight);
        if (hasBias)
        {
            bias = new Parameter(zeros(outChannels));
            register_parameter("bias", bias);
        }
        _stride = [stride, stride];
        _padding = [padding, padding];
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;

    public override Tensor forward(Tensor x) => NarrowConvolution.Transposed(x, weight, bias, _stride, _padding);
}

/// <summary>
/// nn.Dropout(0.5) whose probability can be changed: upstream's reference outputs in training mode are computed with
/// p = 0 (a random mask cannot be compared), and a user may want batch statistics without the noise.
/// </summary>
public sealed class Pix2PixDropout : nn.Module<Tensor, Tensor>
{
    public Pix2PixDropout(double p = 0.5) : base("Dropout") => P = p;

    /// <summary>The probability of zeroing an activation in training mode (upstream: 0.5).</summary>
    public double P { get; set; }

    public override Tensor forward(Tensor x) => training && P > 0 ? F.dropout(x, P, training: true) : x.alias();
}
