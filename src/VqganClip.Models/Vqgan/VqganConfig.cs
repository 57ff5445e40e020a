namespace VqganClip.Models.Vqgan;

/// <summary>Which taming first-stage model a checkpoint holds.</summary>
public enum VqganKind
{
    /// <summary><c>taming.models.vqgan.VQModel</c>: nearest-neighbour vector quantizer (<c>quantize.embedding</c>).</summary>
    VQModel,

    /// <summary><c>taming.models.vqgan.GumbelVQ</c>: Gumbel-softmax quantizer (<c>quantize.proj</c>, <c>quantize.embed</c>).</summary>
    GumbelVQ,
}

/// <summary>
/// A VQGAN's configuration, in taming-transformers' terms: <c>model.params</c> of a taming YAML
/// (<c>embed_dim</c>, <c>n_embed</c>, <c>ddconfig</c>, <c>remap</c>, <c>sane_index_shape</c>, ...).
/// Build one by hand, from a YAML (<see cref="FromYaml"/>), or from a checkpoint's tensors
/// (<see cref="InferFromStateDict"/>).
/// </summary>
public sealed partial record VqganConfig
{
    public VqganKind Kind { get; init; } = VqganKind.VQModel;

    /// <summary>Codebook vector size (<c>embed_dim</c>).</summary>
    public required int EmbedDim { get; init; }

    /// <summary>Codebook size (<c>n_embed</c>).</summary>
    public required int NEmbed { get; init; }

    /// <summary>Encoder/decoder architecture (<c>ddconfig</c>).</summary>
    public required VqganDdConfig DdConfig { get; init; }

    /// <summary>Commitment weight of the VQ loss; taming's VQModel hard-codes 0.25.</summary>
    public double Beta { get; init; } = 0.25;

    /// <summary>VectorQuantizer2's <c>legacy</c> flag (beta applied to the codebook term; taming's default).</summary>
    public bool LegacyLoss { get; init; } = true;

    /// <summary>
    /// <c>remap</c>: path of a .npy file of "used" codebook indices, as the YAML names it (or null).
    /// Checkpoints trained with a remap also carry it as the buffer <c>quantize.used</c>, which is preferred when present.
    /// </summary>
    public string? Remap { get; init; }

    /// <summary>
    /// <c>ckpt_path</c>: a checkpoint whose weights this model takes at construction (taming's <c>VQModel.__init__</c>
    /// calls <c>init_from_ckpt</c>), as the YAML names it, or null. A Net2NetTransformer's <c>first_stage_config</c> uses it
    /// when the first stage's weights live in their own file (see <c>Net2NetTransformer.Load</c>).
    /// </summary>
    public string? CkptPath { get; init; }

    /// <summary><c>unknown_index</c> for remapping: "random", "extra" or an integer.</summary>
    public string RemapUnknownIndex { get; init; } = "random";

    /// <summary><c>sane_index_shape</c>: the quantizer module returns indices as [b,h,w] instead of flattened.</summary>
    public bool SaneIndexShape { get; init; }

    /// <summary>GumbelVQ: <c>kl_weight</c> of the prior loss (taming GumbelVQ's default 1e-8).</summary>
    public double KlWeight { get; init; } = 1e-8;

    /// <summary>GumbelVQ: softmax temperature (<c>temp_init</c>, 1.0 in taming).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>
    /// Prefix of the VQGAN's tensors in its checkpoint: "" for a VQModel/GumbelVQ checkpoint,
    /// "first_stage_model." for a Net2NetTransformer (COCO, FacesHQ, S-FLCKR downloads).
    /// </summary>
    public string StateDictPrefix { get; init; } = "";

    /// <summary>The YAML <c>model.target</c> this came from, or null.</summary>
    public string? Target { get; init; }

    /// <summary>Where the configuration came from: a YAML path, "yaml text", "inferred from ...", or "constructed".</summary>
    public string Source { get; init; } = "constructed";

    /// <summary>
    /// True when <see cref="VqganDdConfig.Resolution"/> was not known and assumed (inference from weights).
    /// It only names <see cref="VqganDdConfig.AttnResolutions"/>; the network is the same whatever it is.
    /// </summary>
    public bool ResolutionAssumed { get; init; }

    /// <summary>Image side / latent side: 2^(len(ch_mult)-1).</summary>
    public int DownsamplingFactor => 1 << (DdConfig.ChMult.Count - 1);

    /// <summary>Channels of the decoder's input latent (after post_quant_conv): <c>z_channels</c>.</summary>
    public int ZChannels => DdConfig.ZChannels;

    /// <summary>
    /// Checks that the numbers can build a network (GroupNorm needs channels divisible by 32, ...).
    /// Throws <see cref="ArgumentException"/> naming the field.
    /// </summary>
    public void Validate()
    {
        if (EmbedDim <= 0) throw new ArgumentException($"VQGAN config: embed_dim must be positive (got {EmbedDim}).");
        if (NEmbed <= 0) throw new ArgumentException($"VQGAN config: n_embed must be positive (got {NEmbed}).");
        DdConfig.Validate();
        if (Kind == VqganKind.GumbelVQ && EmbedDim != DdConfig.ZChannels)
            // GumbelVQ: quant_conv maps z_channels -> embed_dim, then quantize.proj expects z_channels inputs.
            throw new ArgumentException($"VQGAN config: a GumbelVQ needs embed_dim == z_channels (taming feeds quant_conv's embed_dim output to quantize.proj built for z_channels), got embed_dim {EmbedDim}, z_channels {DdConfig.ZChannels}.");
        if (RemapUnknownIndex != "random" && RemapUnknownIndex != "extra" && !int.TryParse(RemapUnknownIndex, out _))
            throw new ArgumentException($"VQGAN config: unknown_index must be \"random\", \"extra\" or an integer (got '{RemapUnknownIndex}').");
    }

    /// <summary>A readable multi-line summary (used by <c>vqgan-clip inspect</c>).</summary>
    public string Describe()
    {
        var d = DdConfig;
        var lines = new List<string>
        {
            $"kind: {Kind}" + (Target is null ? "" : $" ({Target})"),
            $"source: {Source}",
            $"embed_dim: {EmbedDim}",
            $"n_embed: {NEmbed}",
            $"downsampling factor: {DownsamplingFactor}",
            $"ddconfig: ch {d.Ch}, ch_mult [{string.Join(", ", d.ChMult)}], num_res_blocks {d.NumResBlocks}, " +
                $"attn_resolutions [{string.Join(", ", d.AttnResolutions)}], resolution {d.Resolution}{(ResolutionAssumed ? " (assumed: not recorded in the weights)" : "")}, " +
                $"z_channels {d.ZChannels}, double_z {d.DoubleZ}, in_channels {d.InChannels}, out_ch {d.OutCh}, dropout {d.Dropout}",
        };
        if (d.GivePreEnd || d.TanhOut || !d.ResampWithConv || d.ConvShortcut)
            lines.Add($"options: give_pre_end {d.GivePreEnd}, tanh_out {d.TanhOut}, resamp_with_conv {d.ResampWithConv}, conv_shortcut {d.ConvShortcut}");
        if (Remap is not null) lines.Add($"remap: {Remap} (unknown_index {RemapUnknownIndex})");
        if (StateDictPrefix.Length > 0) lines.Add($"tensors under: {StateDictPrefix}");
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>
/// taming's <c>ddconfig</c>: the arguments of <c>Encoder(**ddconfig)</c> and <c>Decoder(**ddconfig)</c>
/// in taming/modules/diffusionmodules/model.py. Defaults are taming's keyword defaults.
/// </summary>
public sealed record VqganDdConfig
{
    /// <summary>Encoder outputs 2*z_channels when true (taming's keyword default is true; VQGAN YAMLs set false).</summary>
    public bool DoubleZ { get; init; } = true;
    public required int ZChannels { get; init; }

    /// <summary>Training image side. Only used to decide at which levels attention blocks sit.</summary>
    public required int Resolution { get; init; }
    public int InChannels { get; init; } = 3;
    public int OutCh { get; init; } = 3;
    public required int Ch { get; init; }
    public IReadOnlyList<int> ChMult { get; init; } = new[] { 1, 2, 4, 8 };
    public required int NumResBlocks { get; init; }

    /// <summary>Feature-map sides (for <see cref="Resolution"/>) at which attention blocks follow the resnet blocks.</summary>
    public required IReadOnlyList<int> AttnResolutions { get; init; }
    public double Dropout { get; init; }
    public bool ResampWithConv { get; init; } = true;

    /// <summary>Decoder returns the features before norm_out/conv_out.</summary>
    public bool GivePreEnd { get; init; }

    /// <summary>Decoder applies tanh to its output (latent-diffusion's Decoder option).</summary>
    public bool TanhOut { get; init; }

    /// <summary>
    /// ResnetBlocks changing width use a 3x3 <c>conv_shortcut</c> instead of a 1x1 <c>nin_shortcut</c>.
    /// taming's Encoder/Decoder never set it; supported for checkpoints that carry such tensors.
    /// </summary>
    public bool ConvShortcut { get; init; }

    public int NumResolutions => ChMult.Count;

    /// <summary>
    /// Levels of the encoder that carry attention: taming's Encoder starts at curr_res = resolution
    /// and halves (integer division) after every level but the last.
    /// </summary>
    public bool[] EncoderAttentionLevels()
    {
        var levels = new bool[NumResolutions];
        int currRes = Resolution;
        for (int i = 0; i < NumResolutions; i++)
        {
            levels[i] = AttnResolutions.Contains(currRes);
            if (i != NumResolutions - 1) currRes /= 2;
        }
        return levels;
    }

    /// <summary>
    /// Levels of the decoder that carry attention: taming's Decoder starts at
    /// curr_res = resolution // 2^(num_resolutions-1) at the deepest level and doubles going up.
    /// (Same as the encoder's for power-of-two resolutions, not always otherwise.)
    /// </summary>
    public bool[] DecoderAttentionLevels()
    {
        var levels = new bool[NumResolutions];
        int currRes = Resolution / (1 << (NumResolutions - 1));
        for (int i = NumResolutions - 1; i >= 0; i--)
        {
            levels[i] = AttnResolutions.Contains(currRes);
            if (i != 0) currRes *= 2;
        }
        return levels;
    }

    public void Validate()
    {
        if (Ch <= 0) throw new ArgumentException($"VQGAN ddconfig: ch must be positive (got {Ch}).");
        if (ChMult.Count == 0) throw new ArgumentException("VQGAN ddconfig: ch_mult is empty.");
        if (ChMult.Any(m => m <= 0)) throw new ArgumentException($"VQGAN ddconfig: ch_mult entries must be positive (got [{string.Join(", ", ChMult)}]).");
        if (NumResBlocks <= 0) throw new ArgumentException($"VQGAN ddconfig: num_res_blocks must be positive (got {NumResBlocks}).");
        if (ZChannels <= 0) throw new ArgumentException($"VQGAN ddconfig: z_channels must be positive (got {ZChannels}).");
        if (InChannels <= 0 || OutCh <= 0) throw new ArgumentException($"VQGAN ddconfig: in_channels and out_ch must be positive (got {InChannels}, {OutCh}).");
        if (Resolution <= 0) throw new ArgumentException($"VQGAN ddconfig: resolution must be positive (got {Resolution}).");
        if (Dropout < 0 || Dropout >= 1) throw new ArgumentException($"VQGAN ddconfig: dropout must be in [0,1) (got {Dropout}).");
        // Normalize() is GroupNorm(32 groups): every normalized width must be a multiple of 32.
        foreach (var width in ChMult.Select(m => m * Ch).Prepend(Ch))
            if (width % VqganLayers.GroupNormGroups != 0)
                throw new ArgumentException($"VQGAN ddconfig: ch * ch_mult gives a width of {width}, not a multiple of {VqganLayers.GroupNormGroups} (taming's Normalize is GroupNorm with 32 groups).");
    }
}
