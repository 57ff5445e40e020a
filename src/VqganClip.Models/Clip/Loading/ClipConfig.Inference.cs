using System.Globalization;
using VqganClip.Models.IO;

namespace VqganClip.Models.Clip;

public sealed partial record ClipConfig
{
    /// <summary>
    /// The reference's build_model inference, from tensor names and shapes in OpenAI layout (Hugging Face
    /// layouts are converted first, see <see cref="ClipStateDict"/>). ViT when <c>visual.proj</c> exists:
    /// width and patch from <c>visual.conv1.weight</c>, depth from the <c>attn.in_proj_weight</c> count, resolution =
    /// patch * sqrt(positional rows - 1). ResNet otherwise: block counts per <c>visual.layerN</c>, width from
    /// <c>layer1.0.conv1</c>, resolution = 32 * sqrt(attnpool positional rows - 1). Text: embed dim from
    /// <c>text_projection</c>, context from <c>positional_embedding</c>, vocab from <c>token_embedding</c>, width from
    /// <c>ln_final</c>, depth from distinct <c>transformer.resblocks.N</c>. Heads: <paramref name="hints"/>, else width/64
    /// (ViT, text) or width*32/64 (ResNet pool), as the reference.
    /// </summary>
    public static bool TryInferFromShapes(IReadOnlyDictionary<string, long[]> shapes, ClipConfigHints? hints,
        out ClipConfig? config, out string? problem)
    {
        config = null;
        problem = null;
        hints ??= ClipConfigHints.None;
        try
        {
            config = Infer(shapes, hints);
            return true;
        }
        catch (InferenceException e)
        {
            problem = e.Message;
            return false;
        }
    }

    /// <summary>
    /// <see cref="TryInferFromShapes"/> on a loaded state dict with OpenAI, open_clip or Hugging Face key names
    /// ("module." prefixes stripped). When <paramref name="hints"/> is null, a JSON config next to the file
    /// (<see cref="ClipSideConfig"/>) is used if there is one; the activation nothing states comes from the kind of file.
    /// </summary>
    public static bool TryInferFromStateDict(StateDict stateDict, out ClipConfig? config, out string? problem, ClipConfigHints? hints = null) =>
        TryInfer(stateDict.Entries.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal),
            stateDict.SourcePath, stateDict.Format, stateDict.Metadata, OptionsFor(hints), out config, out problem);

    /// <summary>
    /// The recogniser form, from a checkpoint's raw tensor names and shapes (no data needed, e.g. from
    /// Checkpoint.Inspect): false with <paramref name="problem"/> = "not a CLIP checkpoint: ... this looks like ..."
    /// when the names are not CLIP's, or naming what is missing/inconsistent when they are.
    /// </summary>
    public static bool TryInferFromCheckpoint(IReadOnlyDictionary<string, long[]> rawShapes, string? sourcePath,
        out ClipConfig? config, out string? problem, ClipConfigHints? hints = null) =>
        TryInfer(rawShapes, sourcePath, format: null, metadata: null, OptionsFor(hints), out config, out problem);

    /// <summary>As the loader would decide it (format, metadata, side config, <paramref name="options"/>), from
    /// <see cref="Checkpoint.Inspect"/>'s names and shapes alone.</summary>
    public static bool TryInferFromCheckpoint(CheckpointInfo checkpoint, ClipLoadOptions? options, out ClipConfig? config, out string? problem)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var t in checkpoint.Tensors) shapes.TryAdd(t.Name, t.Shape);
        return TryInfer(shapes, checkpoint.Path, checkpoint.Format, checkpoint.Metadata, options ?? new ClipLoadOptions(), out config, out problem);
    }

    // Explicit hints replace the side config, as before; the activation still falls back on the kind of file.
    private static ClipLoadOptions OptionsFor(ClipConfigHints? hints) =>
        hints is null ? new ClipLoadOptions() : new ClipLoadOptions { Hints = hints, SearchSideConfig = false };

    private static bool TryInfer(IReadOnlyDictionary<string, long[]> rawShapes, string? sourcePath, string? format,
        IReadOnlyDictionary<string, string>? metadata, ClipLoadOptions options, out ClipConfig? config, out string? problem)
    {
        config = null;
        Dictionary<string, string> names;
        try
        {
            names = ClipStateDict.CleanNames(rawShapes.Keys);
        }
        catch (InvalidDataException e)
        {
            problem = e.Message;
            return false;
        }
        if (UnsupportedClipVariants.Describe(names.Keys) is { } unsupported)
        {
            problem = unsupported;
            return false;
        }
        var layout = ClipStateDict.DetectLayout(names.Keys);
        if (layout == ClipLayout.NotClip)
        {
            problem = ClipStateDict.NotClipMessage(rawShapes.Keys.ToList());
            return false;
        }
        var shapes = names.ToDictionary(kv => kv.Key, kv => rawShapes[kv.Value], StringComparer.Ordinal);
        if (layout == ClipLayout.HuggingFace)
        {
            try
            {
                shapes = HuggingFaceClipKeys.ToOpenAIShapes(shapes);
            }
            catch (InvalidDataException e)
            {
                problem = e.Message;
                return false;
            }
        }
        var hints = ClipHintSources.Resolve(sourcePath, format, metadata, rawShapes.Keys.ToList(), layout, options);
        return TryInferFromShapes(shapes, hints, out config, out problem);
    }

    /// <summary>Like <see cref="TryInferFromShapes"/> but throws <see cref="CheckpointFormatException"/>.</summary>
    public static ClipConfig InferFromShapes(IReadOnlyDictionary<string, long[]> shapes, ClipConfigHints? hints, string path, string format)
    {
        if (!TryInferFromShapes(shapes, hints, out var config, out var problem))
            throw new CheckpointFormatException(path, format, problem!);
        return config!;
    }

    private sealed class InferenceException(string message) : Exception(message);

    private static ClipConfig Infer(IReadOnlyDictionary<string, long[]> shapes, ClipConfigHints hints)
    {
        long[] Shape(string name, int rank)
        {
            if (!shapes.TryGetValue(name, out var s))
                throw new InferenceException($"cannot infer the CLIP architecture: tensor '{name}' is missing");
            if (s.Length != rank)
                throw new InferenceException($"tensor '{name}' has shape {Fmt(s)}; expected {rank} dimensions");
            return s;
        }

        int CountDistinct(string prefix) => shapes.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('.')[0])
            .Distinct().Count();

        static int SquareRoot(long rowsMinusOne, string what)
        {
            int side = (int)Math.Round(Math.Sqrt(rowsMinusOne));
            if ((long)side * side != rowsMinusOne)
                throw new InferenceException($"{what} has {rowsMinusOne + 1} rows, which is not grid²+1 for a square grid");
            return side;
        }

        bool vit = shapes.ContainsKey("visual.proj");
        int embedDim = (int)Shape("text_projection", 2)[1];

        ClipConfig config;
        if (vit)
        {
            var conv1 = Shape("visual.conv1.weight", 4);
            int width = (int)conv1[0];
            int patch = (int)conv1[^1];
            int layers = shapes.Keys.Count(k => k.StartsWith("visual.", StringComparison.Ordinal) && k.EndsWith(".attn.in_proj_weight", StringComparison.Ordinal));
            int grid = SquareRoot(Shape("visual.positional_embedding", 2)[0] - 1, "visual.positional_embedding");
            int heads = hints.VisionHeads ?? width / 64;
            if (heads <= 0)
                throw new InferenceException(
                    $"cannot infer the vision heads for ViT width {width} (the reference's width/64 gives 0); " +
                    "put the model's config.json / hf_config.json next to the checkpoint or pass ClipLoadOptions.Hints.VisionHeads");
            config = new ClipConfig
            {
                EmbedDim = embedDim, ImageResolution = patch * grid, VisionLayers = layers, VisionWidth = width,
                VisionPatchSize = patch, VisionHeads = heads,
                ContextLength = 0, VocabSize = 0, TransformerWidth = 0, TransformerHeads = 0, TransformerLayers = 0,
            };
        }
        else
        {
            if (!shapes.ContainsKey("visual.layer1.0.conv1.weight"))
                throw new InferenceException("cannot infer the CLIP image tower: neither 'visual.proj' (ViT) nor 'visual.layer1.0.conv1.weight' (ModifiedResNet) is present");
            int[] counts = [.. Enumerable.Range(1, 4).Select(b => CountDistinct($"visual.layer{b}."))];
            int width = (int)Shape("visual.layer1.0.conv1.weight", 4)[0];
            int outputWidth = SquareRoot(Shape("visual.attnpool.positional_embedding", 2)[0] - 1, "visual.attnpool.positional_embedding");
            int heads = hints.VisionHeads ?? width * 32 / 64;
            config = new ClipConfig
            {
                EmbedDim = embedDim, ImageResolution = outputWidth * 32, VisionResNetLayers = counts, VisionWidth = width,
                VisionHeads = heads,
                ContextLength = 0, VocabSize = 0, TransformerWidth = 0, TransformerHeads = 0, TransformerLayers = 0,
            };
        }

        int textWidth = (int)Shape("ln_final.weight", 1)[0];
        int textHeads = hints.TextHeads ?? textWidth / 64;
        if (textHeads <= 0)
            throw new InferenceException(
                $"cannot infer the text heads for transformer width {textWidth} (the reference's width/64 gives 0); " +
                "put the model's config.json / hf_config.json next to the checkpoint or pass ClipLoadOptions.Hints.TextHeads");

        config = config with
        {
            ContextLength = (int)Shape("positional_embedding", 2)[0],
            VocabSize = (int)Shape("token_embedding.weight", 2)[0],
            TransformerWidth = textWidth,
            TransformerHeads = textHeads,
            TransformerLayers = CountDistinct("transformer.resblocks."),
            VisionActivation = hints.VisionActivation ?? ClipActivation.QuickGelu,
            TextActivation = hints.TextActivation ?? ClipActivation.QuickGelu,
            ActivationSource = hints.VisionActivation is null && hints.TextActivation is null
                ? "OpenAI CLIP's QuickGELU; no file or option said otherwise"
                : hints.ActivationSource,
            ActivationIsDefault = hints.VisionActivation is null && hints.TextActivation is null || hints.ActivationIsDefault,
            VisionLayerNormEps = hints.VisionLayerNormEps ?? 1e-5,
            TextLayerNormEps = hints.TextLayerNormEps ?? 1e-5,
        };
        try
        {
            return config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InferenceException(e.Message + (hints.Source is null ? "" : $" (hints from {hints.Source})"));
        }
    }

    internal static string Fmt(long[] shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}
