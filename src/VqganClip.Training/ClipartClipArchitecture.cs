using VqganClip.Models.Clip;

namespace VqganClip.Training;

/// <summary>
/// The shipped clipart CLIP: openai/CLIP's ViT layout, scaled down.
/// <list type="bullet">
/// <item>Image: 64x64, patch 16 (a 4x4 grid plus the class token), 4 layers of width 128, 2 heads. Patch 16
/// rather than 8: on a shared 2-core CPU the 65-token ViT cost about six times as much per step, and objects
/// (17 to 30 pixels) still span several patches.</item>
/// <item>Text: the real CLIP tokenizer and vocabulary (49408 ids, so <c>token_embedding</c> keeps OpenAI's
/// [49408, width] layout), a 32-token context (the longest clipart caption is about 24 tokens; OpenAI's 77
/// would only add padding), 4 layers of width 64, 1 head.</item>
/// </list>
/// Head counts are the reference's width/64, so <see cref="ClipModel.Load"/> infers the whole architecture
/// from the tensors with no side config. Size: the 49408x64 token table is most of the model; it is stored
/// as float16 (see <see cref="ClipTrainer.Export(ClipModel, string, long)"/>) to keep the file near 10 MB.
/// </summary>
public static class ClipartClipArchitecture
{
    public const int ContextLength = 32;

    public static ClipConfig Default => new()
    {
        EmbedDim = 128,
        ImageResolution = 64,
        VisionLayers = 4,
        VisionWidth = 128,
        VisionPatchSize = 16,
        VisionHeads = 2,
        ContextLength = ContextLength,
        VocabSize = 49408,
        TransformerWidth = 64,
        TransformerHeads = 1,
        TransformerLayers = 4,
    };
}
