using VqganClip.Models.IO;

namespace VqganClip.Models.BigGan;

public sealed partial record BigGanConfig
{
    /// <summary>
    /// The configuration a state dict's shapes describe: z_dim and num_classes (embeddings.weight), channel_width
    /// (gen_z), each GenBlock's in/out multipliers (conv_0 / conv_3), the attention position (the module with
    /// snconv1x1_theta), n_stats (running_means). Two things are not in the weights and must be given:
    /// <paramref name="upSample"/>, one flag per GenBlock (nearest up-sampling has no parameters), and eps
    /// (1e-4 in every published config). output_dim follows from the flags.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The tensors do not describe a BigGAN-deep (the message says which).</exception>
    public static BigGanConfig InferFromStateDict(StateDict stateDict, IReadOnlyList<bool> upSample, double eps = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(upSample);
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        if (!TryInferFromStateDict(stateDict, upSample, eps, out var config, out var problem))
            throw new CheckpointFormatException(path, stateDict.Format, $"cannot infer the BigGAN configuration: {problem}");
        return config!;
    }

    /// <summary>As <see cref="InferFromStateDict"/>, returning false and the reason instead of throwing.</summary>
    public static bool TryInferFromStateDict(StateDict stateDict, IReadOnlyList<bool> upSample, double eps, out BigGanConfig? config, out string problem)
    {
        config = null;
        if (!BigGanCheckpointLayout.LooksLikeBigGan(stateDict.Keys.ToHashSet()))
        {
            problem = BigGanCheckpointLayout.DescribeNotBigGan(stateDict.Keys);
            return false;
        }
        long[] Shape(string key) => stateDict.TryGetValue(key, out var t) ? t.shape : throw new KeyNotFoundException(key);
        try
        {
            var embed = Shape("embeddings.weight");
            int zDim = (int)embed[0], numClasses = (int)embed[1];
            var genZ = Shape("generator.gen_z.weight_orig");
            if (genZ.Length != 2 || genZ[1] != 2 * zDim || genZ[0] % 256 != 0)
            {
                problem = $"generator.gen_z.weight_orig is [{string.Join(", ", genZ)}]; expected [4*4*16*channel_width, 2*z_dim = {2 * zDim}].";
                return false;
            }
            int ch = (int)(genZ[0] / 256);

            var layers = new List<BigGanLayer>();
            int attention = -1;
            for (int module = 0; ; module++)
            {
                string prefix = $"generator.layers.{module}.";
                if (stateDict.ContainsKey(prefix + "snconv1x1_theta.weight_orig"))
                {
                    if (attention >= 0) { problem = $"two attention layers (generator.layers.{module} and an earlier one); BigGAN-deep has one."; return false; }
                    attention = layers.Count;
                    continue;
                }
                if (!stateDict.ContainsKey(prefix + "conv_0.weight_orig")) break;
                long inCh = Shape(prefix + "conv_0.weight_orig")[1];
                long outCh = Shape(prefix + "conv_3.weight_orig")[0];
                if (inCh % ch != 0 || outCh % ch != 0)
                {
                    problem = $"{prefix}conv_0 takes {inCh} channels and conv_3 gives {outCh}, not multiples of channel_width {ch}.";
                    return false;
                }
                layers.Add(new BigGanLayer(false, (int)(inCh / ch), (int)(outCh / ch)));
            }
            if (layers.Count == 0) { problem = "no generator.layers.N.conv_0.weight_orig tensors (no GenBlocks)."; return false; }
            if (upSample.Count != layers.Count)
            {
                problem = $"the weights have {layers.Count} GenBlocks but {upSample.Count} up-sampling flags were given.";
                return false;
            }
            layers = layers.Select((l, i) => l with { UpSample = upSample[i] }).ToList();
            int nStats = (int)Shape("generator.bn.running_means")[0];
            config = new BigGanConfig
            {
                OutputDim = 4 << upSample.Count(u => u),
                ZDim = zDim,
                ClassEmbedDim = zDim,
                ChannelWidth = ch,
                NumClasses = numClasses,
                Layers = layers,
                AttentionLayerPosition = attention >= 0 ? attention : layers.Count,
                Eps = eps,
                NStats = nStats,
                Source = "inferred from the state dict's shapes",
            };
            config.Validate();
            problem = "";
            return true;
        }
        catch (KeyNotFoundException e)
        {
            problem = $"tensor '{e.Message}' is missing.";
            return false;
        }
        catch (ArgumentException e)
        {
            config = null;
            problem = e.Message;
            return false;
        }
    }
}
