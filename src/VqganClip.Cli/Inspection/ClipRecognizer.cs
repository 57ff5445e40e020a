using System.Globalization;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;

namespace VqganClip.Cli.Inspection;

/// <summary>
/// Recognises CLIP checkpoints for <c>vqgan-clip inspect</c> (OpenAI/open_clip or Hugging Face names) and shows
/// the configuration build_model would infer, with the published model's name when it matches one.
/// </summary>
public sealed class ClipRecognizer(ClipLoadOptions? options = null) : IModelRecognizer
{
    /// <summary>What the user said about the file (config, activation override), as a load would take it.</summary>
    public ClipLoadOptions? Options { get; } = options;

    public ModelRecognition? Recognize(CheckpointInfo checkpoint)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var t in checkpoint.Tensors) shapes.TryAdd(t.Name, t.Shape);

        ClipLayout layout;
        try
        {
            var clean = ClipStateDict.CleanNames(shapes.Keys);
            layout = ClipStateDict.DetectLayout(clean.Keys);
            if (layout != ClipLayout.NotClip && UnsupportedClipVariants.Describe(clean.Keys) is { } unsupported)
                return new ModelRecognition("CLIP-like, not supported", [new("problem", unsupported)]);
        }
        catch (InvalidDataException)
        {
            return null;
        }
        if (layout == ClipLayout.NotClip) return null;

        var names = layout == ClipLayout.HuggingFace ? "Hugging Face CLIPModel" : "OpenAI / open_clip";
        if (!ClipConfig.TryInferFromCheckpoint(checkpoint, Options, out var config, out var problem))
            return new ModelRecognition("CLIP (configuration incomplete)", [new("names", names), new("problem", problem ?? "unknown")]);

        var c = config!;
        static string S(int v) => v.ToString(CultureInfo.InvariantCulture);
        var settings = new List<KeyValuePair<string, string>>
        {
            new("names", names),
            new("image tower", c.IsResNet ? "ModifiedResNet" : "VisionTransformer"),
            new("embed_dim", S(c.EmbedDim)),
            new("image_resolution", S(c.ImageResolution)),
            new("vision_layers", c.IsResNet ? "[" + string.Join(", ", c.VisionResNetLayers!) + "]" : S(c.VisionLayers)),
            new("vision_width", S(c.VisionWidth)),
        };
        if (!c.IsResNet) settings.Add(new("vision_patch_size", S(c.VisionPatchSize)));
        settings.AddRange(
        [
            new("vision_heads", S(c.VisionHeads)),
            new("context_length", S(c.ContextLength)),
            new("vocab_size", S(c.VocabSize)),
            new("transformer_width", S(c.TransformerWidth)),
            new("transformer_heads", S(c.TransformerHeads)),
            new("transformer_layers", S(c.TransformerLayers)),
            new("activation", ClipOptions.ActivationText(c)),
        ]);
        var published = c.PublishedName;
        return new ModelRecognition(published is null ? $"CLIP ({(c.IsResNet ? "ResNet" : "ViT")}, custom size)" : $"CLIP {published}", settings);
    }
}
