using TorchSharp;
using VqganClip.Guidance.Generators;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Losses;

/// <summary>What the init anchor keeps the picture close to.</summary>
public enum AnchorSpace
{
    /// <summary>MSE between the generator's parameters and their starting values (the original: <c>mse_loss(z, z_orig)</c>).</summary>
    Parameters,
    /// <summary>MSE between the rendered picture and the first rendered picture.</summary>
    Image,
}

/// <summary>
/// Keeps the run near where it started (for init images): <c>weight/2 · MSE(current, start)</c> as in the original
/// (<c>F.mse_loss(z, z_orig) * init_weight / 2</c>), optionally decaying as 1/(2·step+1) like nerdyrodent's version
/// so the anchor releases the picture as it goes.
/// </summary>
public sealed class InitAnchorLoss : IRegularizer
{
    private readonly List<Tensor> _anchors = new();

    public InitAnchorLoss(double weight, bool decay = true, AnchorSpace space = AnchorSpace.Parameters)
    {
        Weight = weight;
        Decay = decay;
        Space = space;
    }

    public double Weight { get; }
    public bool Decay { get; }
    public AnchorSpace Space { get; }
    public string Name => "init";

    public void Start(IImageGenerator generator, Tensor firstImage)
    {
        Clear();
        using var _ = no_grad();
        if (Space == AnchorSpace.Image) _anchors.Add(firstImage.detach().clone());
        else foreach (var p in generator.Parameters) _anchors.Add(p.detach().clone());
    }

    public Tensor? Compute(LossContext context)
    {
        if (Weight == 0 || _anchors.Count == 0) return null;
        using var scope = NewDisposeScope();
        double factor = Weight / 2 * (Decay ? 1.0 / (2 * context.Step + 1) : 1.0);
        Tensor total;
        if (Space == AnchorSpace.Image)
            total = nn.functional.mse_loss(context.Image, _anchors[0].to(context.Image.device));
        else
        {
            var ps = context.Generator.Parameters;
            total = nn.functional.mse_loss(ps[0], _anchors[0].to(ps[0].device));
            for (int i = 1; i < ps.Count; i++) total = total + nn.functional.mse_loss(ps[i], _anchors[i].to(ps[i].device));
        }
        return (total * factor).MoveToOuterDisposeScope();
    }

    public IEnumerable<(string Name, Tensor Tensor)> State() =>
        _anchors.Select((t, i) => ($"anchor.{i}", t.detach().cpu().clone())).ToList();

    public void LoadState(StateDict state)
    {
        Clear();
        for (int i = 0; state.TryGetValue($"anchor.{i}", out var t); i++) _anchors.Add(t.detach().clone());
    }

    private void Clear()
    {
        foreach (var t in _anchors) t.Dispose();
        _anchors.Clear();
    }

    public void Dispose() => Clear();
}
