namespace VqganClip.Guidance.StyleClip;

/// <summary>StyleCLIP's <c>--mode</c>.</summary>
public enum StyleClipMode
{
    /// <summary>Start from a seed's truncated latent or a given W+ code; CLIP loss + l2_lambda·Σ(latent − start)².</summary>
    Edit,

    /// <summary>Start from the mean latent; the CLIP loss alone.</summary>
    FreeGeneration,
}

/// <summary>
/// A loss term besides CLIP and the L2 anchor (StyleCLIP's identity loss is one: <c>id_lambda · IDLoss(img_gen, img_orig)</c>):
/// its weight and a function of the current picture and the starting one (both [1, 3, S, S] in about [−1, 1]).
/// </summary>
public sealed record StyleClipExtraTerm(string Name, double Weight, Func<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Loss);

/// <summary>The settings of StyleCLIP's latent optimisation (run_optimization.py's arguments, its defaults).</summary>
public sealed record StyleClipSettings
{
    public int Steps { get; init; } = 300;
    public double LearningRate { get; init; } = 0.1;
    public double L2Lambda { get; init; } = 0.008;
    public StyleClipMode Mode { get; init; } = StyleClipMode.Edit;
    /// <summary>Optimise the StyleSpace vectors (all but the ToRGB ones) instead of W+.</summary>
    public bool WorkInStyleSpace { get; init; }
    /// <summary>Truncation of a seed's start in edit mode.</summary>
    public double Truncation { get; init; } = 0.7;
    /// <summary>Further weighted terms (e.g. an identity loss); none by default.</summary>
    public IReadOnlyList<StyleClipExtraTerm> ExtraTerms { get; init; } = [];

    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"StyleCLIP needs at least one step (got {Steps}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"The learning rate must be positive (got {LearningRate}).");
        if (!(L2Lambda >= 0)) throw new ArgumentException($"The L2 weight must be 0 or more (got {L2Lambda}).");
        if (!(Truncation > 0 && Truncation <= 1)) throw new ArgumentException($"The truncation must be in (0, 1] (got {Truncation}).");
    }
}
