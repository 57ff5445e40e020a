using TorchSharp;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>
/// Something that makes a picture from its own parameters, differentiably: the part of the loop the optimizer changes.
/// Everything else (cutouts, CLIP, losses, optimizer) is the same for every generator.
/// </summary>
public interface IImageGenerator : IDisposable
{
    /// <summary>Short name used on the command line and in saved runs, e.g. "vqgan", "pixels", "fourier", "strokes".</summary>
    string Name { get; }

    /// <summary>Width of the rendered image in pixels.</summary>
    int Width { get; }

    /// <summary>Height of the rendered image in pixels.</summary>
    int Height { get; }

    /// <summary>The tensors the optimizer changes. Allocated once, in the constructor; the same objects for the generator's lifetime.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Whether <see cref="Initialize"/> (or <see cref="LoadState"/>) has given the parameters their starting values.</summary>
    bool IsInitialized { get; }

    /// <summary>Gives the parameters their starting values, drawing any randomness from <paramref name="rng"/> (the run's generator).</summary>
    void Initialize(Generator rng);

    /// <summary>The picture [1,3,H,W] in [0,1], differentiable with respect to <see cref="Parameters"/>.</summary>
    Tensor Render();

    /// <summary>Called after every optimizer step (under no_grad): clamps parameters back into range, etc.</summary>
    void PostStep() { }

    /// <summary>
    /// The picture to show and save [1,3,H,W] in [0,1] when it is not <see cref="Render"/>'s, else null. Big Sleep's
    /// generator shows the picture of an exponential moving average of its latents while the optimizer works on the
    /// live ones. Called under no_grad.
    /// </summary>
    Tensor? RenderForDisplay() => null;

    /// <summary>
    /// Loss terms that belong to the generator's parameterisation (Big Sleep's latent-statistics and class losses),
    /// new instances for one run, which owns them; recorded beside the prompt losses under their names.
    /// </summary>
    IEnumerable<Losses.IRegularizer> CreateOwnLosses() => [];

    /// <summary>Settings (besides parameters) needed to rebuild an equivalent generator, e.g. for resuming a saved run.</summary>
    IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Copies of the parameters (and any buffers needed to continue), by name. The caller owns the result.</summary>
    StateDict StateDict();

    /// <summary>Sets the parameters from a <see cref="StateDict"/> made by <see cref="StateDict()"/>; marks the generator initialised.</summary>
    void LoadState(StateDict state);
}
