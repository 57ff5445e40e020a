namespace VqganClip.Models.Clip;

/// <summary>The MLP activation of a transformer tower. OpenAI's CLIP uses QuickGELU everywhere;
/// open_clip / Hugging Face models trained elsewhere may use exact GELU (HF <c>hidden_act: "gelu"</c>).</summary>
public enum ClipActivation
{
    /// <summary><c>x * sigmoid(1.702 x)</c>, the reference's QuickGELU.</summary>
    QuickGelu,
    /// <summary>Exact (erf) GELU, torch's nn.GELU().</summary>
    Gelu,
}

/// <summary>
/// The arguments of openai/CLIP's <c>CLIP(...)</c> constructor (clip/model.py), plus the few things the
/// reference hard-codes but other distributions vary: attention head counts, activation and LayerNorm eps.
/// A ViT image tower has <see cref="VisionResNetLayers"/> null; a ModifiedResNet has its four block counts there.
/// </summary>
public sealed partial record ClipConfig
{
    public required int EmbedDim { get; init; }
    public required int ImageResolution { get; init; }

    /// <summary>ViT depth (ignored for a ResNet tower).</summary>
    public int VisionLayers { get; init; }

    /// <summary>Bottleneck counts of layer1..layer4 for a ModifiedResNet tower; null for a ViT.</summary>
    public IReadOnlyList<int>? VisionResNetLayers { get; init; }

    /// <summary>ViT width, or the ResNet stem width (64 for RN50).</summary>
    public required int VisionWidth { get; init; }

    /// <summary>ViT patch size (0 for a ResNet).</summary>
    public int VisionPatchSize { get; init; }

    /// <summary>Heads of the ViT transformer or of the ResNet's attention pool. Reference: width/64 (ViT), width*32/64 (ResNet).</summary>
    public required int VisionHeads { get; init; }

    public required int ContextLength { get; init; }
    public required int VocabSize { get; init; }
    public required int TransformerWidth { get; init; }

    /// <summary>Text transformer heads. build_model uses width/64; tiny test models set it explicitly.</summary>
    public required int TransformerHeads { get; init; }

    public required int TransformerLayers { get; init; }

    public ClipActivation VisionActivation { get; init; } = ClipActivation.QuickGelu;
    public ClipActivation TextActivation { get; init; } = ClipActivation.QuickGelu;
    public double VisionLayerNormEps { get; init; } = 1e-5;
    public double TextLayerNormEps { get; init; } = 1e-5;

    public bool IsResNet => VisionResNetLayers is not null;

    /// <summary>Tokens per side of the image grid: resolution/patch (ViT) or resolution/32 (ResNet attention pool).</summary>
    public int GridSize => IsResNet ? ImageResolution / 32 : ImageResolution / VisionPatchSize;

    /// <summary>Output width of the ResNet trunk (width*32), the attention pool's embedding size.</summary>
    public int ResNetFeatureDim => VisionWidth * 32;

    /// <summary>A short human name, e.g. "ViT-B/32-like (ViT 12x768, patch 32, 224px)".</summary>
    public string Describe() => IsResNet
        ? $"ModifiedResNet [{string.Join(",", VisionResNetLayers!)}] width {VisionWidth}, {ImageResolution}px, embed {EmbedDim}, text {TransformerLayers}x{TransformerWidth}/{TransformerHeads}h"
        : $"ViT {VisionLayers}x{VisionWidth}/{VisionHeads}h patch {VisionPatchSize}, {ImageResolution}px, embed {EmbedDim}, text {TransformerLayers}x{TransformerWidth}/{TransformerHeads}h";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public ClipConfig Validate()
    {
        static void Require(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"Invalid CLIP config: {what}.");
        }

        Require(EmbedDim > 0, $"EmbedDim must be positive (got {EmbedDim})");
        Require(VisionWidth > 0, $"VisionWidth must be positive (got {VisionWidth})");
        Require(ContextLength > 0, $"ContextLength must be positive (got {ContextLength})");
        Require(VocabSize > 0, $"VocabSize must be positive (got {VocabSize})");
        Require(TransformerWidth > 0, $"TransformerWidth must be positive (got {TransformerWidth})");
        Require(TransformerLayers >= 0, $"TransformerLayers must not be negative (got {TransformerLayers})");
        Require(TransformerHeads > 0 && TransformerWidth % TransformerHeads == 0,
            $"TransformerHeads ({TransformerHeads}) must be positive and divide TransformerWidth ({TransformerWidth})");
        if (IsResNet)
        {
            Require(VisionResNetLayers!.Count == 4 && VisionResNetLayers.All(n => n > 0),
                $"VisionResNetLayers must be four positive counts (got [{string.Join(",", VisionResNetLayers)}])");
            Require(VisionWidth % 2 == 0, $"ResNet VisionWidth must be even (the stem halves it; got {VisionWidth})");
            Require(ImageResolution > 0 && ImageResolution % 32 == 0,
                $"ResNet ImageResolution must be a positive multiple of 32 (got {ImageResolution})");
            Require(VisionHeads > 0 && ResNetFeatureDim % VisionHeads == 0,
                $"VisionHeads ({VisionHeads}) must be positive and divide the attention pool width {ResNetFeatureDim}");
        }
        else
        {
            Require(VisionLayers >= 0, $"VisionLayers must not be negative (got {VisionLayers})");
            Require(VisionPatchSize > 0 && ImageResolution > 0 && ImageResolution % VisionPatchSize == 0,
                $"ImageResolution ({ImageResolution}) must be a positive multiple of VisionPatchSize ({VisionPatchSize})");
            Require(VisionHeads > 0 && VisionWidth % VisionHeads == 0,
                $"VisionHeads ({VisionHeads}) must be positive and divide VisionWidth ({VisionWidth})");
        }
        return this;
    }

    // ---- The published OpenAI models (clip.available_models()), values as build_model infers them. ----

    public static ClipConfig ViT(int embedDim, int resolution, int layers, int width, int patch,
        int textWidth, int textHeads, int textLayers = 12, int contextLength = 77, int vocabSize = 49408) => new()
    {
        EmbedDim = embedDim, ImageResolution = resolution, VisionLayers = layers, VisionWidth = width,
        VisionPatchSize = patch, VisionHeads = width / 64, ContextLength = contextLength, VocabSize = vocabSize,
        TransformerWidth = textWidth, TransformerHeads = textHeads, TransformerLayers = textLayers,
    };

    public static ClipConfig ResNet(int embedDim, int resolution, int[] layers, int width,
        int textWidth, int textHeads, int textLayers = 12, int contextLength = 77, int vocabSize = 49408) => new()
    {
        EmbedDim = embedDim, ImageResolution = resolution, VisionResNetLayers = layers, VisionWidth = width,
        VisionHeads = width * 32 / 64, ContextLength = contextLength, VocabSize = vocabSize,
        TransformerWidth = textWidth, TransformerHeads = textHeads, TransformerLayers = textLayers,
    };

    public static ClipConfig ViTB32 => ViT(512, 224, 12, 768, 32, 512, 8);
    public static ClipConfig ViTB16 => ViT(512, 224, 12, 768, 16, 512, 8);
    public static ClipConfig ViTL14 => ViT(768, 224, 24, 1024, 14, 768, 12);
    public static ClipConfig ViTL14At336 => ViT(768, 336, 24, 1024, 14, 768, 12);
    public static ClipConfig RN50 => ResNet(1024, 224, [3, 4, 6, 3], 64, 512, 8);
    public static ClipConfig RN101 => ResNet(512, 224, [3, 4, 23, 3], 64, 512, 8);
    public static ClipConfig RN50x4 => ResNet(640, 288, [4, 6, 10, 6], 80, 640, 10);
    public static ClipConfig RN50x16 => ResNet(768, 384, [6, 8, 18, 8], 96, 768, 12);
    public static ClipConfig RN50x64 => ResNet(1024, 448, [3, 15, 36, 10], 128, 1024, 16);

    /// <summary>The published models by their clip.available_models() names.</summary>
    public static IReadOnlyDictionary<string, ClipConfig> Published { get; } = new Dictionary<string, ClipConfig>
    {
        ["RN50"] = RN50, ["RN101"] = RN101, ["RN50x4"] = RN50x4, ["RN50x16"] = RN50x16, ["RN50x64"] = RN50x64,
        ["ViT-B/32"] = ViTB32, ["ViT-B/16"] = ViTB16, ["ViT-L/14"] = ViTL14, ["ViT-L/14@336px"] = ViTL14At336,
    };

    /// <summary>The published name whose config equals this one, if any.</summary>
    public string? PublishedName => Published.FirstOrDefault(kv => kv.Value.SameArchitecture(this)).Key;

    /// <summary>Value equality (records compare the layer list by reference, so compare it by content; the
    /// activation's reason is not architecture).</summary>
    public bool SameArchitecture(ClipConfig other) =>
        this with { VisionResNetLayers = null, ActivationSource = null, ActivationIsDefault = false }
            == other with { VisionResNetLayers = null, ActivationSource = null, ActivationIsDefault = false }
        && (VisionResNetLayers is null) == (other.VisionResNetLayers is null)
        && (VisionResNetLayers is null || VisionResNetLayers.SequenceEqual(other.VisionResNetLayers!));
}
