using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// nn.Conv2d(in, out, 4×4 (or k), stride, padding 1, bias) with PyTorch's parameter names <c>weight</c> [out, in, k, k]
/// and <c>bias</c>. Its own module rather than TorchSharp's Conv2d so the forward can go through
/// <see cref="NarrowConvolution"/>: the discriminator's last convolution (1 filter) and small-ngf networks' first
/// ones have fewer than 16 filters, and gradients flow through them to the generator.
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
/// nn.ConvTranspose2d(in, out, 4, stride 2, padding 1, bias): <c>weight</c> [in, out, k, k], <c>bias</c>. With autograd
/// on a CPU float32 input and fewer than 16 output channels the filters are zero-padded to 16 output channels and the
/// extra ones dropped, the <see cref="NarrowConvolution"/> remedy, as a precaution: the outermost up-convolution has 3
/// outputs (and small-ngf ones fewer than 16), and the defect was measured for ordinary convolutions. A probe here
/// (libtorch's own conv_transpose2d, 4×4 stride 2, batch 32 at 32×32, 2 threads, 100 calls each for 16→3, 16→4, 32→8)
/// found its float32 input gradient within 5e-7 of float64 every time, so the padding may be unnecessary; it costs
/// little. Values are identical; Pix2PixConvGradientTests checks the input gradient against float64.
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

    public override Tensor forward(Tensor x)
    {
        long filters = weight.shape[1];
        if (filters >= NarrowConvolution.SafeOutputChannels || !is_grad_enabled() || x.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32)
            return F.conv_transpose2d(x, weight, bias, strides: _stride, padding: _padding);
        using var scope = NewDisposeScope();
        long extra = NarrowConvolution.SafeOutputChannels - filters;
        var paddedWeight = F.pad(weight, new long[] { 0, 0, 0, 0, 0, extra });
        var paddedBias = bias is null ? null : F.pad(bias, new long[] { 0, extra });
        var output = F.conv_transpose2d(x, paddedWeight, paddedBias, strides: _stride, padding: _padding);
        return output.narrow(1, 0, filters).contiguous().MoveToOuterDisposeScope();
    }
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
