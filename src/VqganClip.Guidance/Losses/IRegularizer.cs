using TorchSharp;
using VqganClip.Guidance.Generators;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Losses;

/// <summary>What a loss term may look at in one step.</summary>
/// <param name="Image">The rendered picture [1,3,H,W] (with gradient).</param>
/// <param name="Generator">The generator (its parameters carry gradient).</param>
/// <param name="Step">Steps completed before this one.</param>
public sealed record LossContext(Tensor Image, IImageGenerator Generator, int Step);

/// <summary>
/// An extra loss term added to the prompt losses (each recorded separately under <see cref="Name"/>).
/// </summary>
public interface IRegularizer : IDisposable
{
    /// <summary>Key in loss records, e.g. "tv", "init".</summary>
    string Name { get; }

    /// <summary>Called once when a run starts (after the generator has its starting values): capture any reference values.</summary>
    void Start(IImageGenerator generator, Tensor firstImage) { }

    /// <summary>The weighted term, a scalar with gradient; or null when it contributes nothing this step.</summary>
    Tensor? Compute(LossContext context);

    /// <summary>Tensors to save with a run (copies; the caller disposes), e.g. the anchor of <see cref="InitAnchorLoss"/>.</summary>
    IEnumerable<(string Name, Tensor Tensor)> State() => Array.Empty<(string, Tensor)>();

    /// <summary>Restores what <see cref="State"/> saved (names without the run's prefix).</summary>
    void LoadState(StateDict state) { }
}
