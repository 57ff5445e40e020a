using VqganClip.Models.Clip;

namespace VqganClip.Guidance.Training;

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

    /// <summary>
    /// The same CLIP with openai/CLIP's ModifiedResNet image tower instead of the ViT (an experiment: a
    /// convolutional stem reads outlines at every pixel where a 16-pixel patch embedding sees a 4x4 grid).
    /// <paramref name="width"/> is the reference's stem width (RN50: 64); the trunk ends at width*32 channels on a
    /// (resolution/32)² grid (2x2 at the scenes' 64 pixels), pooled by the attention pool with the reference's
    /// width*32/64 heads. A <paramref name="resolution"/> above 64 makes the CLIP read the scenes upsampled
    /// (bilinear, as guidance's cutouts resample them), which buys a finer final grid at 4x the cost per doubling.
    /// </summary>
    public static ClipConfig ResNet(int width, IReadOnlyList<int> layers, int resolution = 64)
    {
        if (resolution < 64 || resolution % 32 != 0)
            throw new ArgumentException($"--image-size of a resnet tower must be a multiple of 32 of at least 64 (got {resolution}).");
        if (width <= 0 || width % 2 != 0) throw new ArgumentException($"--resnet-width must be a positive even number (got {width}).");
        if (layers.Count != 4 || layers.Any(n => n < 1))
            throw new ArgumentException($"--resnet-layers needs four positive block counts (got {string.Join(",", layers)}).");
        return Default with
        {
            VisionResNetLayers = layers.ToArray(),
            ImageResolution = resolution,
            VisionWidth = width,
            VisionLayers = 0,
            VisionPatchSize = 0,
            VisionHeads = width * 32 / 64,   // the reference's heads; at least 1 for an even width
        };
    }
}
