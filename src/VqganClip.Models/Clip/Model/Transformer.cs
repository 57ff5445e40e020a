using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// The reference's Transformer: <c>resblocks</c>, a stack of <see cref="ResidualAttentionBlock"/>s.
/// The text tower is causal: the reference gives every block the additive mask from build_attention_mask;
/// here the mask is built per call for the sequence length (it is not a parameter and never in a state dict).
/// Inputs are batch-first [N, L, width].
/// </summary>
public sealed class Transformer : nn.Module<Tensor, Tensor>
{
    private readonly bool _causal;

#pragma warning disable IDE1006 // reference parameter names
    public readonly ModuleList<ResidualAttentionBlock> resblocks;
#pragma warning restore IDE1006

    public Transformer(int width, int layers, int heads, bool causal,
        ClipActivation activation = ClipActivation.QuickGelu, double eps = 1e-5) : base(nameof(Transformer))
    {
        Width = width;
        Layers = layers;
        Heads = heads;
        _causal = causal;
        resblocks = new ModuleList<ResidualAttentionBlock>(
            Enumerable.Range(0, layers).Select(_ => new ResidualAttentionBlock(width, heads, activation, eps)).ToArray());
        RegisterComponents();
    }

    public int Width { get; }
    public int Layers { get; }
    public int Heads { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var mask = _causal ? Attention.CausalMask(x.shape[1], x.device, x.dtype) : null;
        foreach (var block in resblocks)
            x = block.forward(x, mask);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Like <see cref="forward"/> but returns only the first token's output [N, 1, width], computing the last block for
    /// that token alone (<see cref="ResidualAttentionBlock.ForwardFirstToken"/>). Not for the causal text tower
    /// (its pooled token is the end-of-text one).
    /// </summary>
    public Tensor ForwardFirstToken(Tensor x)
    {
        if (_causal) throw new InvalidOperationException("ForwardFirstToken is for the (non-causal) image tower.");
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < resblocks.Count - 1; i++)
            x = resblocks[i].forward(x, null);
        x = resblocks.Count > 0 ? resblocks[^1].ForwardFirstToken(x) : x.narrow(1, 0, 1);
        return x.MoveToOuterDisposeScope();
    }
}
