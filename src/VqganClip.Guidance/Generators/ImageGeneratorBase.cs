using TorchSharp;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>
/// Shared plumbing for generators: named parameters, state save/load by name, disposal. A new generator derives from
/// this, creates its parameters with <see cref="AddParameter"/> in its constructor and implements
/// <see cref="InitializeCore"/> and <see cref="Render"/>.
/// </summary>
public abstract class ImageGeneratorBase : IImageGenerator
{
    private readonly List<(string Name, Parameter Parameter)> _parameters = new();
    private bool _disposed;

    protected ImageGeneratorBase(string name, int width, int height, Device? device)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size must be positive; got {width}x{height}.");
        Name = name;
        Width = width;
        Height = height;
        Device = device ?? CPU;
    }

    public string Name { get; }
    public int Width { get; }
    public int Height { get; }
    public Device Device { get; }
    public bool IsInitialized { get; protected set; }

    public IReadOnlyList<Parameter> Parameters => _parameters.Select(p => p.Parameter).ToList();

    /// <summary>The parameters with their names (as saved in state dicts).</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters => _parameters;

    public abstract IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Creates a zero-filled parameter of the given shape; call from the constructor.</summary>
    protected Parameter AddParameter(string name, params long[] shape)
    {
        var p = new Parameter(zeros(shape, ScalarType.Float32, Device), requires_grad: true);
        _parameters.Add((name, p));
        return p;
    }

    public void Initialize(Generator rng)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using (no_grad())
        using (NewDisposeScope())
            InitializeCore(rng);
        IsInitialized = true;
    }

    /// <summary>Fill the parameters in place (no_grad and a dispose scope are already active).</summary>
    protected abstract void InitializeCore(Generator rng);

    public abstract Tensor Render();

    public virtual void PostStep() { }

    /// <inheritdoc cref="IImageGenerator.RenderForDisplay"/>
    public virtual Tensor? RenderForDisplay() => null;

    /// <inheritdoc cref="IImageGenerator.CreateOwnLosses"/>
    public virtual IEnumerable<Losses.IRegularizer> CreateOwnLosses() => [];

    public StateDict StateDict()
    {
        var sd = new StateDict("generator");
        sd.Metadata["generator"] = Name;
        foreach (var (name, p) in _parameters)
            sd.Add(name, p.detach().cpu().clone());
        SaveExtraState(sd);
        return sd;
    }

    /// <summary>Adds what the generator needs to continue besides its parameters (copies), e.g. a moving average.</summary>
    protected virtual void SaveExtraState(StateDict state) { }

    /// <summary>Restores what <see cref="SaveExtraState"/> added (after the parameters are loaded); a state without it starts afresh.</summary>
    protected virtual void LoadExtraState(StateDict state) { }

    public void LoadState(StateDict state)
    {
        using (no_grad())
        {
            foreach (var (name, p) in _parameters)
            {
                if (!state.TryGetValue(name, out var t))
                    throw new InvalidDataException($"The saved state has no tensor '{name}' for the {Name} generator (has: {string.Join(", ", state.Keys)}).");
                if (!t.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"Saved tensor '{name}' has shape [{string.Join(", ", t.shape)}] but the {Name} generator ({Width}x{Height}) needs [{string.Join(", ", p.shape)}].");
                p.copy_(t);
            }
        }
        LoadExtraState(state);
        IsInitialized = true;
    }

    protected void EnsureInitialized()
    {
        if (!IsInitialized)
            throw new InvalidOperationException($"The {Name} generator has no starting values yet: call Initialize(rng) (a GuidedRun does this for you) or LoadState first.");
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (disposing)
            foreach (var (_, p) in _parameters) p.Dispose();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
