using System.Globalization;

namespace VqganClip.Guidance.DeepDream;

/// <summary>
/// The classic DeepDream recipe (google/deepdream's dream.ipynb) as settings: what to amplify (a layer's L2, or one
/// channel's mean), gradient ascent steps of <c>StepSize / mean|g|</c> in the network's input units (BGR 0..255 minus
/// the mean), random jitter by rolling the picture up to <see cref="Jitter"/> pixels, and <see cref="Octaves"/>
/// scales <see cref="OctaveScale"/> apart with the detail carried from each to the next. Defaults are the
/// notebook's (10 steps, 4 octaves of 1.4, step 1.5, jitter 32) on the network's default layer (the ResNet18's
/// <c>stage3.block1</c>).
/// </summary>
public sealed record DreamSettings
{
    /// <summary>
    /// A layer name: for the ResNet18 a friendly one (<c>stage3.block1</c>) or an ONNX value (<c>ReLU333_Output_0</c>),
    /// for a CLIP ResNet <c>layer3</c>, <c>layer3.1</c>, ...; null: the network's default (<see cref="IDreamNetwork.DefaultLayer"/>).
    /// </summary>
    public string? Layer { get; init; }

    /// <summary>Null: L2 (mean of squared activations) of the whole layer; N: the mean of channel N ("what excites this unit").</summary>
    public int? Channel { get; init; }

    public int Octaves { get; init; } = 4;
    public double OctaveScale { get; init; } = 1.4;

    /// <summary>Gradient ascent steps per octave.</summary>
    public int Steps { get; init; } = 10;

    /// <summary>The step: <c>x += StepSize / mean|g| * g</c>, in the network's input units (0..255).</summary>
    public double StepSize { get; init; } = 1.5;

    /// <summary>Largest random shift (pixels, each axis) before each step, undone after it.</summary>
    public int Jitter { get; init; } = 32;

    public long Seed { get; init; }

    /// <summary>Smallest side an octave may have (the network shrinks a picture 32 times).</summary>
    public const int MinimumSide = 32;

    /// <summary>Checks the numbers; errors say which option is wrong.</summary>
    public void Validate()
    {
        if (Layer is not null && string.IsNullOrWhiteSpace(Layer)) throw new ArgumentException("--layer must name a layer (see --list-layers).");
        if (Channel is < 0) throw new ArgumentException($"--channel must be 0 or more; got {Channel}.");
        if (Octaves < 1) throw new ArgumentException($"--octaves must be 1 or more; got {Octaves}.");
        if (!(OctaveScale > 1) || double.IsInfinity(OctaveScale)) throw new ArgumentException($"--octave-scale must be more than 1; got {OctaveScale.ToString(CultureInfo.InvariantCulture)}.");
        if (Steps < 0) throw new ArgumentException($"--steps must be 0 or more; got {Steps}.");
        if (!(StepSize > 0) || double.IsInfinity(StepSize)) throw new ArgumentException($"--lr must be more than 0; got {StepSize.ToString(CultureInfo.InvariantCulture)}.");
        if (Jitter < 0) throw new ArgumentException($"--jitter must be 0 or more; got {Jitter}.");
    }

    /// <summary>The settings as text (PNG chunks, reports).</summary>
    public IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string>
    {
        ["layer"] = Layer ?? "default",
        ["channel"] = Channel?.ToString(CultureInfo.InvariantCulture) ?? "all (L2)",
        ["octaves"] = Octaves.ToString(CultureInfo.InvariantCulture),
        ["octave-scale"] = OctaveScale.ToString(CultureInfo.InvariantCulture),
        ["steps"] = Steps.ToString(CultureInfo.InvariantCulture),
        ["lr"] = StepSize.ToString(CultureInfo.InvariantCulture),
        ["jitter"] = Jitter.ToString(CultureInfo.InvariantCulture),
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>One step done: octave (0 = smallest) and step within it, the octave's size, and the objective before the step.</summary>
public sealed record DreamProgress(int Octave, int Octaves, int Step, int Steps, int Width, int Height, double Objective);
