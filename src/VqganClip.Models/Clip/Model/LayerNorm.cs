using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Clip;

/// <summary>
/// The reference's LayerNorm subclass: normalizes in float32 whatever the input dtype (CLIP's weights may be
/// fp16) and casts the result back. Parameters <c>weight</c> / <c>bias</c> as torch's nn.LayerNorm.
/// </summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly long[] _shape;
    private readonly double _eps;

#pragma warning disable IDE1006 // reference parameter names
    public readonly Parameter weight;
    public readonly Parameter bias;
#pragma warning restore IDE1006

    public LayerNorm(long width, double eps = 1e-5) : base(nameof(LayerNorm))
    {
        _shape = [width];
        _eps = eps;
        weight = new Parameter(torch.ones(width));
        bias = new Parameter(torch.zeros(width));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (x.dtype == ScalarType.Float32)
            return F.layer_norm(x, _shape, weight, bias, _eps);
        using var x32 = x.to(ScalarType.Float32);
        using var y = F.layer_norm(x32, _shape, weight, bias, _eps);
        return y.to(x.dtype);
    }
}
