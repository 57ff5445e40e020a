using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// The reference's AttentionPool2d, the ModifiedResNet's final pooling: flatten the [N, C, H, W] feature map
/// to H*W tokens, prepend their mean as an extra token, add <c>positional_embedding</c> [H*W+1, C], run one
/// multi-head attention over all tokens (separate <c>q_proj</c>/<c>k_proj</c>/<c>v_proj</c>, output <c>c_proj</c>)
/// and return the mean token's output. Batch-first internally; the reference uses [(HW+1), N, C].
/// </summary>
public sealed class AttentionPool2d : nn.Module<Tensor, Tensor>
{
    private readonly int _heads;

#pragma warning disable IDE1006 // reference parameter names
    public readonly Parameter positional_embedding;
    public readonly Linear k_proj;
    public readonly Linear q_proj;
    public readonly Linear v_proj;
    public readonly Linear c_proj;
#pragma warning restore IDE1006

    public AttentionPool2d(int spacialDim, int embedDim, int heads, int? outputDim = null) : base(nameof(AttentionPool2d))
    {
        if (heads <= 0 || embedDim % heads != 0)
            throw new ArgumentException($"Attention pool heads ({heads}) must be positive and divide the width ({embedDim}).", nameof(heads));
        _heads = heads;
        SpacialDim = spacialDim;
        positional_embedding = new Parameter(torch.randn((long)spacialDim * spacialDim + 1, embedDim).div_(Math.Sqrt(embedDim)));
        k_proj = nn.Linear(embedDim, embedDim);
        q_proj = nn.Linear(embedDim, embedDim);
        v_proj = nn.Linear(embedDim, embedDim);
        c_proj = nn.Linear(embedDim, outputDim ?? embedDim);
        RegisterComponents();
    }

    public int SpacialDim { get; }
    public int Heads => _heads;

    /// <param name="x">[N, C, H, W] trunk features with H = W = spacial dim.</param>
    /// <returns>[N, output_dim].</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        x = x.flatten(2).transpose(1, 2);                                   // [N, HW, C]
        x = torch.cat([x.mean([1L], keepdim: true), x], dim: 1);            // [N, HW+1, C]: mean token first
        x = x + positional_embedding.to(x.dtype);
        var attended = Attention.Forward(q_proj.forward(x), k_proj.forward(x), v_proj.forward(x), _heads, attnMask: null);
        var output = c_proj.forward(attended);
        return output[.., 0, ..].MoveToOuterDisposeScope();
    }
}
