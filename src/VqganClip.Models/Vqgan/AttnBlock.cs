using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using VqganClip.Models.Runtime;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// taming's <c>AttnBlock</c>: single-head spatial self-attention with 1x1-conv projections
/// <c>q</c>, <c>k</c>, <c>v</c>, <c>proj_out</c> after a GroupNorm <c>norm</c>, added to the input.
/// Scores are scaled by c^-0.5 and softmaxed over the key positions, as in the reference.
/// </summary>
public sealed class AttnBlock : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm norm;
    private readonly Conv2d q;
    private readonly Conv2d k;
    private readonly Conv2d v;
    private readonly Conv2d proj_out;

    /// <summary>c^-0.5, held for the block's life (an implicit Scalar can be finalized during the call: HeldScalars).</summary>
    private readonly Scalar _scale;

    public AttnBlock(long channels) : base(nameof(AttnBlock))
    {
        _scale = Math.Pow(channels, -0.5).ToScalar();
        norm = VqganLayers.Normalize(channels);
        q = VqganLayers.Conv1x1(channels, channels);
        k = VqganLayers.Conv1x1(channels, channels);
        v = VqganLayers.Conv1x1(channels, channels);
        proj_out = VqganLayers.Conv1x1(channels, channels);
        register_module("norm", norm);
        register_module("q", q);
        register_module("k", k);
        register_module("v", v);
        register_module("proj_out", proj_out);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h_ = norm.forward(x);
        var query = q.forward(h_);
        var key = k.forward(h_);
        var value = v.forward(h_);

        long b = query.shape[0], c = query.shape[1], hh = query.shape[2], ww = query.shape[3];
        var qFlat = query.reshape(b, c, hh * ww).permute(0, 2, 1);      // b, hw, c
        var kFlat = key.reshape(b, c, hh * ww);                          // b, c, hw
        var weights = torch.bmm(qFlat, kFlat).mul(_scale);                  // b, hw(q), hw(k); c^-0.5
        weights = nn.functional.softmax(weights, dim: 2);

        var vFlat = value.reshape(b, c, hh * ww);                        // b, c, hw(k)
        var attended = torch.bmm(vFlat, weights.permute(0, 2, 1));       // b, c, hw(q)
        var output = x.add(proj_out.forward(attended.reshape(b, c, hh, ww)), HeldScalars.One);
        return output.MoveToOuterDisposeScope();
    }
}
