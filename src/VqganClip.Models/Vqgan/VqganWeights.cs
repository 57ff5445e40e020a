using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// Copies checkpoint tensors into a <see cref="VqganModel"/> after checking that they are exactly the
/// tensors its configuration builds (<see cref="StrictStateDictCopy"/>).
/// Everything outside the VQGAN (loss.* discriminator/LPIPS, a transformer, a cond stage) is ignored.
/// </summary>
internal static class VqganWeights
{
    private const string Format = "VQGAN";

    public static void CheckKind(StateDict stateDict, string prefix, VqganConfig config, string path)
    {
        bool hasVq = stateDict.ContainsKey(prefix + "quantize.embedding.weight");
        bool hasGumbel = stateDict.ContainsKey(prefix + "quantize.embed.weight") || stateDict.ContainsKey(prefix + "quantize.proj.weight");
        if (config.Kind == VqganKind.VQModel && !hasVq && hasGumbel)
            throw new CheckpointFormatException(path, Format,
                $"the configuration ({config.Source}) describes a VQModel but the checkpoint holds a GumbelVQ quantizer ({prefix}quantize.embed.weight / quantize.proj.weight).");
        if (config.Kind == VqganKind.GumbelVQ && hasVq && !hasGumbel)
            throw new CheckpointFormatException(path, Format,
                $"the configuration ({config.Source}) describes a GumbelVQ but the checkpoint holds a VQModel codebook ({prefix}quantize.embedding.weight).");
    }

    public static void Copy(StateDict stateDict, string prefix, VqganModel model, VqganConfig config, string path) =>
        StrictStateDictCopy.Copy(stateDict, prefix, model.state_dict(), new StrictCopyRules(path, Format, config.Source,
            k => VqganCheckpointLayout.ModuleNames.Any(m => k.StartsWith(m, StringComparison.Ordinal)))
        {
            // taming loads with strict=False: a remap buffer the config does not ask for is ignored, as there.
            IgnoreIfUnexpected = k => k == "quantize.used",
        });
}
