using System.Globalization;
using VqganClip.Models.IO;

namespace VqganClip.Models.StyleGan2;

public sealed partial record StyleGan2Config
{
    /// <summary>
    /// The configuration a generator state dict's shapes describe (tensor names without <paramref name="prefix"/>):
    /// style_dim (<c>style.1.weight</c>), n_mlp (the <c>style.N.weight</c> count), size (4·2^(number of
    /// <c>to_rgbs.N</c>)), channels (<c>input.input</c>, each <c>convs.2k.conv.weight</c> [1, out, in, k, k]). lr_mlp is
    /// not in the weights: <paramref name="lrMlp"/> (upstream's 0.01). The blur kernel must be upstream's 4 taps.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The tensors do not describe a generator (the message names the tensor).</exception>
    public static StyleGan2Config InferFromStateDict(StateDict stateDict, string prefix = "", double lrMlp = 0.01)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        CheckpointFormatException Bad(string problem) => new(path, stateDict.Format, $"cannot infer the StyleGAN2 configuration: {problem}");
        long[] Shape(string name) => stateDict.TryGetValue(prefix + name, out var t) ? t.shape : throw Bad($"tensor '{prefix + name}' is missing.");
        string S(long[] shape) => "[" + string.Join(", ", shape) + "]";

        var style1 = Shape("style.1.weight");
        if (style1.Length != 2 || style1[0] != style1[1]) throw Bad($"tensor '{prefix}style.1.weight' is {S(style1)}; expected [style_dim, style_dim].");
        int styleDim = (int)style1[0];
        int nMlp = 0;
        while (stateDict.ContainsKey(prefix + $"style.{nMlp + 1}.weight")) nMlp++;

        var constant = Shape("input.input");
        if (constant.Length != 4 || constant[0] != 1 || constant[2] != 4 || constant[3] != 4) throw Bad($"tensor '{prefix}input.input' is {S(constant)}; expected [1, channels, 4, 4].");
        var channels = new List<int> { (int)constant[1] };
        int blocks = 0;
        while (stateDict.ContainsKey(prefix + $"to_rgbs.{blocks}.conv.weight")) blocks++;
        for (int k = 0; k < blocks; k++)
        {
            string name = $"convs.{2 * k}.conv.weight";
            var shape = Shape(name);
            if (shape.Length != 5 || shape[0] != 1 || shape[2] != channels[^1])
                throw Bad($"tensor '{prefix}{name}' is {S(shape)}; expected [1, out, {channels[^1]}, k, k] (its input is the previous block's {channels[^1]} channels).");
            channels.Add((int)shape[1]);
        }
        if (blocks == 0) throw Bad($"no '{prefix}to_rgbs.0.conv.weight': a StyleGAN2 generator has at least one 8-px block.");

        if (stateDict.TryGetValue(prefix + "convs.0.conv.blur.kernel", out var blur) && !(blur.dim() == 2 && blur.shape[0] == 4 && blur.shape[1] == 4))
            throw Bad($"tensor '{prefix}convs.0.conv.blur.kernel' is {S(blur.shape)}; only upstream's 4-tap blur kernel [1, 3, 3, 1] (a [4, 4] buffer) is supported.");

        var config = new StyleGan2Config(4 << blocks, styleDim, nMlp, channels, lrMlp);
        try { config.Validate(); }
        catch (ArgumentException e) { throw Bad(e.Message); }
        return config;
    }

    /// <summary>lr_mlp as text, invariant culture.</summary>
    internal string LrMlpText => LrMlp.ToString("R", CultureInfo.InvariantCulture);
}
