using VqganClip.Models.Onnx;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Losses;

/// <summary>
/// A style term (Gatys et al.; Johnson et al.'s normalisation): at each layer the Gram matrix of the feature map,
/// <c>G = F·Fᵀ / (C·H·W)</c> for F [C, H·W], and <c>weight · Σ_layers MSE(G(picture), G(style))</c>. Gram matrices
/// forget where things are, so the style picture may have any size; its matrices are computed once. With CLIP
/// guidance this is style transfer: the prompt says what, the style picture how. (ResNets make weaker Gram targets
/// than the VGG of the papers; docs/deepdream.md.)
/// </summary>
public sealed class GramStyleLoss : IRegularizer
{
    private readonly IFeatureExtractor _features;
    private readonly Dictionary<string, Tensor> _targets = new();

    /// <param name="features">The network (not owned).</param>
    /// <param name="style">RGB [1,3,H,W] in [0,1].</param>
    public GramStyleLoss(IFeatureExtractor features, Tensor style, IReadOnlyList<string>? layers = null, double weight = 1)
    {
        _features = features ?? throw new ArgumentNullException(nameof(features));
        ArgumentNullException.ThrowIfNull(style);
        Layers = layers ?? ["stem", "stage1.block2", "stage2.block2", "stage3.block2"];
        if (Layers.Count == 0) throw new ArgumentException("GramStyleLoss needs at least one layer.", nameof(layers));
        Weight = weight;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (layer, map) in _features.Features(style.detach(), Layers))
            _targets[layer] = Gram(map).detach().DetachFromDisposeScope();   // kept across steps, whatever scope made this
    }

    public IReadOnlyList<string> Layers { get; }
    public double Weight { get; }
    public string Name => "style";

    /// <summary>Gram matrices [N,C,C] of feature maps [N,C,H,W], divided by C·H·W.</summary>
    public static Tensor Gram(Tensor features)
    {
        using var scope = NewDisposeScope();
        long n = features.shape[0], c = features.shape[1], hw = features.shape[2] * features.shape[3];
        var f = features.reshape(n, c, hw);
        return (matmul(f, f.transpose(1, 2)) / (c * hw)).MoveToOuterDisposeScope();
    }

    public Tensor? Compute(LossContext context)
    {
        if (Weight == 0) return null;
        using var scope = NewDisposeScope();
        var maps = _features.Features(context.Image, Layers);
        Tensor? total = null;
        foreach (var layer in Layers)
        {
            var g = Gram(maps[layer]);
            var target = _targets[layer].to(g.device).expand_as(g);
            var term = nn.functional.mse_loss(g, target);
            total = total is null ? term : total + term;
        }
        return (total! * Weight).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in _targets.Values) t.Dispose();
        _targets.Clear();
    }
}
