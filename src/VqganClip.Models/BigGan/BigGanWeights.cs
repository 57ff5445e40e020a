using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.BigGan;

/// <summary>
/// Copies a state dict into a <see cref="BigGanModel"/> after checking that it holds exactly the tensors the
/// configuration builds (<see cref="StrictStateDictCopy"/>; upstream loads with strict=False and would leave
/// disagreeing tensors random or unused silently).
/// </summary>
internal static class BigGanWeights
{
    private const string Format = "BigGAN";

    public static void Copy(StateDict stateDict, BigGanModel model, string path)
    {
        var expected = model.state_dict();
        StrictStateDictCopy.Copy(stateDict, "", expected, new StrictCopyRules(path, Format, model.Config.Source, BigGanCheckpointLayout.IsBigGanTensorName)
        {
            IgnoreIfUnexpected = k => IsPreVersion1SpectralNormWeight(k, expected),
            MissingHint = "The configuration and the checkpoint describe different architectures (a different number of layers or attention position?).",
        });
    }

    /// <summary>
    /// PyTorch before 1.0 also saved a spectral-norm layer's computed <c>weight</c> beside weight_orig; the fold here
    /// uses weight_orig, weight_u and weight_v, so such an extra tensor is ignored.
    /// </summary>
    private static bool IsPreVersion1SpectralNormWeight(string key, Dictionary<string, Tensor> expected) =>
        key.EndsWith(".weight", StringComparison.Ordinal) && expected.ContainsKey(key[..^".weight".Length] + ".weight_orig");
}
