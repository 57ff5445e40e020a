using VqganClip.Models.IO;

namespace VqganClip.Cli.Inspection;

/// <summary>
/// Hook for <c>vqgan-clip inspect</c>: looks at a checkpoint's tensor names and shapes (no data) and,
/// if it knows the model, says which one and its configuration (e.g. CLIP ViT-B/32 widths and layers).
/// Register implementations in <see cref="ModelRecognizers.All"/>.
/// </summary>
public interface IModelRecognizer
{
    /// <summary>The recognised model, or null when this recogniser does not know the checkpoint.</summary>
    ModelRecognition? Recognize(CheckpointInfo checkpoint);
}

/// <summary>What a recogniser found: a model name and its configuration as ordered key/value text.</summary>
public sealed record ModelRecognition(string Model, IReadOnlyList<KeyValuePair<string, string>> Configuration);

/// <summary>The recognisers <c>inspect</c> asks, in order. Later helpers add CLIP and VQGAN here.</summary>
public static class ModelRecognizers
{
    public static List<IModelRecognizer> All { get; } =
    [
        new ClipRecognizer(),
    ];
}
