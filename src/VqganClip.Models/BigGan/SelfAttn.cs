using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.BigGan;

/// <summary>
/// upstream's <c>SelfAttn</c> (SAGAN attention): theta, phi (C→C/8), g (C→C/2), o_conv (C/2→C), all 1×1 SN convs
/// without bias; phi and g max-pooled 2×2; out = x + gamma·o_conv(g·softmax(thetaᵀphi)ᵀ). Takes no condition.
/// </summary>
public sealed class SelfAttn : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly SNConv2d snconv1x1_theta, snconv1x1_phi, snconv1x1_g, snconv1x1_o_conv;
    private readonly Parameter gamma;
#pragma warning restore IDE1006

    public SelfAttn(long inChannels, double eps) : base(nameof(SelfAttn))
    {
        InChannels = inChannels;
        snconv1x1_theta = new SNConv2d(inChannels, inChannels / 8, 1, 0, hasBias: false, eps);
        snconv1x1_phi = new SNConv2d(inChannels, inChannels / 8, 1, 0, hasBias: false, eps);
        snconv1x1_g = new SNConv2d(inChannels, inChannels / 2, 1, 0, hasBias: false, eps);
        snconv1x1_o_conv = new SNConv2d(inChannels / 2, inChannels, 1, 0, hasBias: false, eps);
        register_module("snconv1x1_theta", snconv1x1_theta);
        register_module("snconv1x1_phi", snconv1x1_phi);
        register_module("snconv1x1_g", snconv1x1_g);
        register_module("snconv1x1_o_conv", snconv1x1_o_conv);
        gamma = new Parameter(zeros(1));
        register_parameter("gamma", gamma);
        ModuleTensors.DetachFromDisposeScopes(this);
    }

    public long InChannels { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long ch = x.shape[1], h = x.shape[2], w = x.shape[3];
        var theta = snconv1x1_theta.forward(x).view(-1, ch / 8, h * w);
        var phi = F.max_pool2d(snconv1x1_phi.forward(x), 2, 2).view(-1, ch / 8, h * w / 4);
        var attn = theta.permute(0, 2, 1).bmm(phi).softmax(-1);
        var g = F.max_pool2d(snconv1x1_g.forward(x), 2, 2).view(-1, ch / 2, h * w / 4);
        var attnG = g.bmm(attn.permute(0, 2, 1)).view(-1, ch / 2, h, w);
        attnG = snconv1x1_o_conv.forward(attnG);
        return (x + gamma * attnG).MoveToOuterDisposeScope();
    }
}
