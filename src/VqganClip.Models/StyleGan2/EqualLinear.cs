using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// rosinality's <c>EqualLinear</c>: stored <c>weight</c> [out, in] (drawn as randn/lr_mul) and <c>bias</c> [out],
/// used as weight·(1/√in)·lr_mul and bias·lr_mul (equalized learning rate). With the fused activation (the mapping
/// network) the output is leaky_relu(x·Wᵀ + b, 0.2)·√2 (<see cref="FusedLeakyRelu"/>).
/// </summary>
public sealed class EqualLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Parameter weight;
    private readonly Parameter bias;
#pragma warning restore IDE1006

    public EqualLinear(long inDim, long outDim, double biasInit = 0, double lrMul = 1, bool fusedLeakyRelu = false) : base(nameof(EqualLinear))
    {
        weight = new Parameter(randn(outDim, inDim).div_(lrMul), requires_grad: false);
        bias = new Parameter(full(outDim, biasInit), requires_grad: false);
        register_parameter("weight", weight);
        register_parameter("bias", bias);
        Scale = 1.0 / Math.Sqrt(inDim) * lrMul;
        LrMul = lrMul;
        Activated = fusedLeakyRelu;
    }

    /// <summary>(1/√in)·lr_mul, as upstream computes it (in double).</summary>
    public double Scale { get; }

    public double LrMul { get; }

    public bool Activated { get; }

    public Parameter Weight => weight;

    public Parameter Bias => bias;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = Activated
            ? FusedLeakyRelu.Apply(F.linear(input, weight * Scale), bias * LrMul)
            : F.linear(input, weight * Scale, bias * LrMul);
        return output.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// rosinality's <c>fused_leaky_relu(input, bias, 0.2, 2 ** 0.5)</c> on its CPU path: leaky_relu(input + bias, 0.2)·√2,
/// the bias broadcast over dimension 1 (<c>bias.view(1, C, 1, ...)</c>). The CPU path hard-codes the slope 0.2.
/// </summary>
public static class FusedLeakyRelu
{
    public const double NegativeSlope = 0.2;

    public static readonly double Gain = Math.Sqrt(2.0);

    public static Tensor Apply(Tensor input, Tensor bias)
    {
        using var scope = NewDisposeScope();
        var shape = new long[input.dim()];
        Array.Fill(shape, 1L);
        shape[1] = bias.shape[0];
        return (F.leaky_relu(input + bias.view(shape), NegativeSlope) * Gain).MoveToOuterDisposeScope();
    }
}
