using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// Copies a generator state dict (names under a prefix) into a <see cref="StyleGan2Model"/> after checking that it
/// holds exactly the tensors the configuration builds (<see cref="StrictStateDictCopy"/>; upstream loads with
/// strict=False and would silently leave disagreeing tensors random or unused).
/// </summary>
internal static class StyleGan2Weights
{
    private const string Format = "StyleGAN2";

    public static void Copy(StateDict stateDict, string prefix, StyleGan2Model model, string path) =>
        StrictStateDictCopy.Copy(stateDict, prefix, model.state_dict(), new StrictCopyRules(path, Format, model.Config.ToString()!,
            name => prefix + name != StyleGan2CheckpointLayout.LatentAvgName));   // latent_avg sits beside the generator, not in it
}
