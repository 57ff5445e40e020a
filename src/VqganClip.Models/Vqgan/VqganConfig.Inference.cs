using VqganClip.Models.IO;

namespace VqganClip.Models.Vqgan;

/// <summary>Reading a VQGAN's configuration from its weights alone.</summary>
public sealed partial record VqganConfig
{
    /// <summary>
    /// The resolution assumed when inferring: taming's published VQGANs (ImageNet, OpenImages, WikiArt,
    /// COCO, FacesHQ, S-FLCKR) were trained at 256. It only names <see cref="VqganDdConfig.AttnResolutions"/>;
    /// the network built does not depend on it.
    /// </summary>
    public const int AssumedResolution = 256;

    /// <summary>
    /// Reads the architecture from tensor names and shapes: ch and in_channels from encoder.conv_in,
    /// ch_mult from each encoder.down.N.block.0 width, num_res_blocks from the blocks of encoder.down.0,
    /// z_channels from decoder.conv_in, double_z from encoder.conv_out, out_ch from decoder.conv_out,
    /// embed_dim/n_embed from the codebook, GumbelVQ when quantize.proj exists, attention levels from
    /// encoder.down.N.attn / decoder.up.N.attn. What the weights cannot tell: resolution (assumed
    /// <see cref="AssumedResolution"/>, flagged by <see cref="ResolutionAssumed"/>), dropout (0),
    /// give_pre_end/tanh_out (false), and for a remapped codebook the unknown_index ("random").
    /// </summary>
    /// <exception cref="InvalidDataException">Not a VQGAN, or the tensors are inconsistent; the message names the tensor.</exception>
    public static VqganConfig InferFromStateDict(StateDict stateDict) =>
        TryInferFromStateDict(stateDict, out var config, out var problem)
            ? config!
            : throw new InvalidDataException($"Cannot infer a VQGAN configuration from {stateDict.Describe()}: {problem}");

    /// <summary>As <see cref="InferFromStateDict"/>, reporting failure as <paramref name="problem"/> instead of throwing.</summary>
    public static bool TryInferFromStateDict(StateDict stateDict, out VqganConfig? config, out string? problem)
    {
        config = null;
        var prefix = VqganCheckpointLayout.FindPrefix(stateDict);
        if (prefix is null)
        {
            problem = VqganCheckpointLayout.DescribeNotVqgan(stateDict);
            return false;
        }
        try
        {
            config = Infer(stateDict, prefix);
            problem = null;
            return true;
        }
        catch (InvalidDataException e)
        {
            problem = e.Message;
            return false;
        }
    }

    private static VqganConfig Infer(StateDict sd, string prefix)
    {
        long[] Shape(string name) =>
            sd.TryGetValue(prefix + name, out var t) ? t.shape : throw new InvalidDataException($"tensor '{prefix}{name}' is missing.");
        bool Has(string name) => sd.ContainsKey(prefix + name);

        var convIn = Shape("encoder.conv_in.weight");
        int ch = (int)convIn[0], inChannels = (int)convIn[1];

        int levels = 0;
        while (Has($"encoder.down.{levels}.block.0.conv1.weight")) levels++;
        if (levels == 0) throw new InvalidDataException($"tensor '{prefix}encoder.down.0.block.0.conv1.weight' is missing.");

        var chMult = new int[levels];
        for (int i = 0; i < levels; i++)
        {
            long width = Shape($"encoder.down.{i}.block.0.conv1.weight")[0];
            if (width % ch != 0)
                throw new InvalidDataException($"'{prefix}encoder.down.{i}.block.0.conv1.weight' has {width} output channels, not a multiple of ch = {ch}.");
            chMult[i] = (int)(width / ch);
        }

        int numResBlocks = 0;
        while (Has($"encoder.down.0.block.{numResBlocks}.conv1.weight")) numResBlocks++;
        for (int i = 0; i < levels; i++)
        {
            // The decoder has num_res_blocks + 1 blocks per level.
            if (!Has($"decoder.up.{i}.block.{numResBlocks}.conv1.weight") || Has($"decoder.up.{i}.block.{numResBlocks + 1}.conv1.weight"))
                throw new InvalidDataException($"decoder level {i} does not have num_res_blocks + 1 = {numResBlocks + 1} blocks (looked for '{prefix}decoder.up.{i}.block.{numResBlocks}.conv1.weight'), as the encoder's {numResBlocks} blocks imply.");
        }

        var decoderConvIn = Shape("decoder.conv_in.weight");
        int zChannels = (int)decoderConvIn[1];
        long encoderOut = Shape("encoder.conv_out.weight")[0];
        bool doubleZ = encoderOut == 2L * zChannels;
        if (!doubleZ && encoderOut != zChannels)
            throw new InvalidDataException($"'{prefix}encoder.conv_out.weight' has {encoderOut} output channels; expected z_channels = {zChannels} (from decoder.conv_in) or twice that.");
        int outCh = (int)Shape("decoder.conv_out.weight")[0];

        VqganKind kind;
        long[] codebook;
        if (Has("quantize.embedding.weight"))
        {
            kind = VqganKind.VQModel;
            codebook = Shape("quantize.embedding.weight");
        }
        else if (Has("quantize.embed.weight") && Has("quantize.proj.weight"))
        {
            kind = VqganKind.GumbelVQ;
            codebook = Shape("quantize.embed.weight");
        }
        else
            throw new InvalidDataException($"no codebook: neither '{prefix}quantize.embedding.weight' (VQModel) nor '{prefix}quantize.embed.weight' with quantize.proj (GumbelVQ) is present.");

        var encoderAttention = Enumerable.Range(0, levels).Select(i => Has($"encoder.down.{i}.attn.0.q.weight")).ToArray();
        var decoderAttention = Enumerable.Range(0, levels).Select(i => Has($"decoder.up.{i}.attn.0.q.weight")).ToArray();
        if (!encoderAttention.SequenceEqual(decoderAttention))
            throw new InvalidDataException(
                $"the encoder has attention at levels [{LevelList(encoderAttention)}] but the decoder at [{LevelList(decoderAttention)}]; " +
                "no power-of-two resolution gives that, so the attention layout cannot be expressed without the model's YAML config (pass it).");

        int resolution = Math.Max(AssumedResolution, 1 << (levels - 1));
        var attnResolutions = Enumerable.Range(0, levels).Where(i => encoderAttention[i]).Select(i => resolution >> i).ToArray();

        var config = new VqganConfig
        {
            Kind = kind,
            EmbedDim = (int)codebook[1],
            NEmbed = (int)codebook[0],
            DdConfig = new VqganDdConfig
            {
                DoubleZ = doubleZ,
                ZChannels = zChannels,
                Resolution = resolution,
                InChannels = inChannels,
                OutCh = outCh,
                Ch = ch,
                ChMult = chMult,
                NumResBlocks = numResBlocks,
                AttnResolutions = attnResolutions,
                Dropout = 0.0,
                ResampWithConv = levels == 1 || Has("encoder.down.0.downsample.conv.weight"),
                ConvShortcut = sd.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.EndsWith(".conv_shortcut.weight", StringComparison.Ordinal)),
            },
            Remap = Has("quantize.used") ? "(quantize.used in the checkpoint)" : null,
            StateDictPrefix = prefix,
            Target = kind == VqganKind.GumbelVQ ? GumbelVQTarget : VQModelTarget,
            Source = $"inferred from {sd.Describe()}",
            ResolutionAssumed = true,
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        return config;
    }

    private static string LevelList(bool[] levels) =>
        string.Join(", ", Enumerable.Range(0, levels.Length).Where(i => levels[i]));
}
