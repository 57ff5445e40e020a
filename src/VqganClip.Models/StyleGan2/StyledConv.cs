using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// rosinality's <c>NoiseInjection</c>: image + <c>weight</c>[1]·noise, noise [B or 1, 1, H, W] (a fresh N(0, 1) draw
/// when none is given).
/// </summary>
public sealed class NoiseInjection : nn.Module
{
#pragma warning disable IDE1006
    private readonly Parameter weight;
#pragma warning restore IDE1006

    public NoiseInjection() : base(nameof(NoiseInjection))
    {
        weight = new Parameter(zeros(1), requires_grad: false);
        register_parameter("weight", weight);
    }

    public Tensor Forward(Tensor image, Tensor noise) => image + weight * noise;
}

/// <summary>
/// rosinality's <c>StyledConv</c>: <c>conv</c> (modulated, demodulated, 3×3, maybe up-sampling) → <c>noise</c>
/// (NoiseInjection) → <c>activate</c> (FusedLeakyReLU with its own <c>bias</c> [out]).
/// </summary>
public sealed class StyledConv : nn.Module
{
#pragma warning disable IDE1006
    private readonly ModulatedConv2d conv;
    private readonly NoiseInjection noise;
    private readonly FusedLeakyReluLayer activate;
#pragma warning restore IDE1006

    public StyledConv(int inChannel, int outChannel, int kernelSize, int styleDim, bool upsample, IReadOnlyList<int> blurKernel) : base(nameof(StyledConv))
    {
        conv = new ModulatedConv2d(inChannel, outChannel, kernelSize, styleDim, demodulate: true, upsample, blurKernel);
        noise = new NoiseInjection();
        activate = new FusedLeakyReluLayer(outChannel);
        register_module("conv", conv);
        register_module("noise", noise);
        register_module("activate", activate);
    }

    public ModulatedConv2d Conv => conv;

    /// <summary>x [B, in, H, W], style vector [B, in], noise [B or 1, 1, H', W'] → [B, out, H', W'].</summary>
    public Tensor Forward(Tensor x, Tensor style, Tensor noiseImage)
    {
        using var scope = NewDisposeScope();
        var output = conv.Forward(x, style);
        output = noise.Forward(output, noiseImage);
        return activate.Forward(output).MoveToOuterDisposeScope();
    }
}

/// <summary>rosinality's <c>FusedLeakyReLU(channel)</c> module: a <c>bias</c> [C] then <see cref="FusedLeakyRelu.Apply"/>.</summary>
public sealed class FusedLeakyReluLayer : nn.Module
{
#pragma warning disable IDE1006
    private readonly Parameter bias;
#pragma warning restore IDE1006

    public FusedLeakyReluLayer(int channels) : base("FusedLeakyReLU")
    {
        bias = new Parameter(zeros(channels), requires_grad: false);
        register_parameter("bias", bias);
    }

    public Tensor Forward(Tensor x) => FusedLeakyRelu.Apply(x, bias);
}

/// <summary>
/// rosinality's <c>ToRGB</c>: <c>conv</c> (1×1 modulated, no demodulation, 3 filters) + <c>bias</c> [1, 3, 1, 1], plus
/// the previous RGB skip up-sampled by <c>upsample</c> (absent in <c>to_rgb1</c>).
/// </summary>
public sealed class ToRgb : nn.Module
{
#pragma warning disable IDE1006
    private readonly Upsample? upsample;
    private readonly ModulatedConv2d conv;
    private readonly Parameter bias;
#pragma warning restore IDE1006

    public ToRgb(int inChannel, int styleDim, bool upsample, IReadOnlyList<int> blurKernel) : base("ToRGB")
    {
        if (upsample)
        {
            this.upsample = new Upsample(blurKernel);
            register_module("upsample", this.upsample);
        }
        conv = new ModulatedConv2d(inChannel, 3, 1, styleDim, demodulate: false, upsample: false, blurKernel);
        register_module("conv", conv);
        bias = new Parameter(zeros(1, 3, 1, 1), requires_grad: false);
        register_parameter("bias", bias);
    }

    public ModulatedConv2d Conv => conv;

    public Tensor Forward(Tensor x, Tensor style, Tensor? skip)
    {
        using var scope = NewDisposeScope();
        var output = conv.Forward(x, style) + bias;
        if (skip is not null)
        {
            if (upsample is null) throw new InvalidOperationException("to_rgb1 takes no skip input.");
            output = output + upsample.forward(skip);
        }
        return output.MoveToOuterDisposeScope();
    }
}
