namespace VqganClip.Models.BigGan;

/// <summary>One entry of <c>config.layers</c>: a GenBlock (up-sample?, in and out channels as multiples of channel_width).</summary>
public sealed record BigGanLayer(bool UpSample, int InMultiplier, int OutMultiplier);

/// <summary>
/// pytorch-pretrained-BigGAN's <c>BigGANConfig</c> (config.py), with its JSON key names: output_dim, z_dim,
/// class_embed_dim, channel_width, num_classes, layers [(up, in, out)], attention_layer_position, eps, n_stats.
/// Nothing here is fixed to one size: the published 128/256/512 configs (10/12/14 layers) and the tiny test
/// configs all go through the same code. Build one by hand, from JSON (<see cref="FromJson"/>), or from a state
/// dict's shapes (<see cref="InferFromStateDict"/>, which needs the up-sampling flags: they are not in the weights).
/// </summary>
public sealed partial record BigGanConfig
{
    /// <summary>Side of the generated image (<c>output_dim</c>; upstream never reads it, here it must equal 4·2^ups).</summary>
    public required int OutputDim { get; init; }

    /// <summary>Noise size (<c>z_dim</c>); the class embedding has the same size and cond = cat(z, embed) is 2·z_dim.</summary>
    public required int ZDim { get; init; }

    /// <summary><c>class_embed_dim</c>: upstream builds <c>embeddings</c> with z_dim outputs and ignores this; it must equal z_dim.</summary>
    public required int ClassEmbedDim { get; init; }

    /// <summary><c>channel_width</c> (ch): layer channel counts are multiples of it.</summary>
    public required int ChannelWidth { get; init; }

    /// <summary><c>num_classes</c>: width of the class vector.</summary>
    public required int NumClasses { get; init; }

    /// <summary><c>layers</c>: one GenBlock per entry, in order.</summary>
    public required IReadOnlyList<BigGanLayer> Layers { get; init; }

    /// <summary>
    /// <c>attention_layer_position</c>: the SelfAttn module is inserted before GenBlock number i, so module indices
    /// of <c>generator.layers</c> from i on are one more than the GenBlock's. A value of len(layers) or more means no
    /// attention layer (upstream's loop never reaches it).
    /// </summary>
    public required int AttentionLayerPosition { get; init; }

    /// <summary><c>eps</c>: used both as spectral-norm eps and batch-norm eps (1e-4 in the published configs).</summary>
    public double Eps { get; init; } = 1e-4;

    /// <summary><c>n_stats</c>: number of standing statistics per batch norm (for truncations 0, 1/(n-1), ..., 1).</summary>
    public int NStats { get; init; } = 51;

    /// <summary>Where this configuration came from (a file, "state dict shapes", "code"), for messages.</summary>
    public string Source { get; init; } = "code";

    /// <summary>Size of the condition vector cat(z, embed): 2·z_dim.</summary>
    public int ConditionDim => 2 * ZDim;

    /// <summary>Number of GenBlocks (= len(layers)).</summary>
    public int NumGenBlocks => Layers.Count;

    /// <summary>True when an attention layer is built (<see cref="AttentionLayerPosition"/> &lt; len(layers)).</summary>
    public bool HasAttention => AttentionLayerPosition < Layers.Count;

    /// <summary>Rows of per-block latents Big Sleep's forward takes: one for gen_z and one per GenBlock.</summary>
    public int NumLatents => Layers.Count + 1;

    /// <summary>Image side computed from the layers: 4 (gen_z's 4x4) doubled at every up-sampling block.</summary>
    public int ComputedOutputDim => 4 << Layers.Count(l => l.UpSample);

    /// <summary>Index in <c>generator.layers</c> of GenBlock <paramref name="block"/> (shifted by one after the attention layer).</summary>
    public int ModuleIndexOfBlock(int block) => HasAttention && block >= AttentionLayerPosition ? block + 1 : block;

    /// <summary>Throws <see cref="ArgumentException"/> naming the key and value that cannot describe a BigGAN-deep generator.</summary>
    public void Validate()
    {
        string where = $"BigGAN config ({Source})";
        if (ZDim <= 0) throw new ArgumentException($"{where}: z_dim must be positive (got {ZDim}).");
        if (ClassEmbedDim != ZDim)
            throw new ArgumentException($"{where}: class_embed_dim ({ClassEmbedDim}) must equal z_dim ({ZDim}): upstream builds embeddings as Linear(num_classes, z_dim) and a condition of 2*z_dim.");
        if (ChannelWidth <= 0) throw new ArgumentException($"{where}: channel_width must be positive (got {ChannelWidth}).");
        if (NumClasses <= 0) throw new ArgumentException($"{where}: num_classes must be positive (got {NumClasses}).");
        if (!(Eps > 0) || double.IsInfinity(Eps)) throw new ArgumentException($"{where}: eps must be a positive number (got {Eps}).");
        if (NStats < 2) throw new ArgumentException($"{where}: n_stats must be at least 2 (got {NStats}; the statistics are spaced 1/(n_stats-1)).");
        if (Layers is null || Layers.Count == 0) throw new ArgumentException($"{where}: layers is empty.");
        if (AttentionLayerPosition < 0) throw new ArgumentException($"{where}: attention_layer_position must not be negative (got {AttentionLayerPosition}).");

        // gen_z outputs 4*4*16*ch, viewed as 16*ch channels: the first block takes 16*ch.
        int previous = 16;
        for (int i = 0; i < Layers.Count; i++)
        {
            var (up, inMul, outMul) = (Layers[i].UpSample, Layers[i].InMultiplier, Layers[i].OutMultiplier);
            if (inMul <= 0 || outMul <= 0) throw new ArgumentException($"{where}: layers[{i}] = [{Lower(up)}, {inMul}, {outMul}] has a non-positive channel multiplier.");
            if (inMul != previous)
                throw new ArgumentException(i == 0
                    ? $"{where}: layers[0] takes {inMul}*channel_width channels but gen_z makes 16*channel_width (the first layer's input multiplier must be 16)."
                    : $"{where}: layers[{i}] takes {inMul}*channel_width channels but layers[{i - 1}] gives {previous}*channel_width.");
            // GenBlock's skip keeps x0[:, :in/2] when in != out, so out must be exactly in/2.
            if (inMul != outMul && inMul != 2 * outMul)
                throw new ArgumentException($"{where}: layers[{i}] = [{Lower(up)}, {inMul}, {outMul}]: when the channels change they must halve (the skip connection keeps the first half of the input channels).");
            if (inMul * ChannelWidth % 4 != 0)
                throw new ArgumentException($"{where}: layers[{i}] has {inMul * ChannelWidth} input channels, not a multiple of 4 (GenBlock's bottleneck is in/4).");
            previous = outMul;
        }
        if (HasAttention && Layers[AttentionLayerPosition].InMultiplier * ChannelWidth % 8 != 0)
            throw new ArgumentException($"{where}: the attention layer at position {AttentionLayerPosition} sees {Layers[AttentionLayerPosition].InMultiplier * ChannelWidth} channels, not a multiple of 8 (theta/phi have C/8).");
        if (previous != 1)
            throw new ArgumentException($"{where}: the last layer gives {previous}*channel_width channels but generator.bn and conv_to_rgb take channel_width (its output multiplier must be 1).");
        if (OutputDim != ComputedOutputDim)
            throw new ArgumentException($"{where}: output_dim is {OutputDim} but the layers make {ComputedOutputDim}x{ComputedOutputDim} images (4 doubled at each of the {Layers.Count(l => l.UpSample)} up-sampling layers).");
    }

    /// <summary>Equal when every config.json value is equal (layers compared entry by entry); <see cref="Source"/> is provenance and not compared.</summary>
    public bool Equals(BigGanConfig? other) =>
        other is not null && OutputDim == other.OutputDim && ZDim == other.ZDim && ClassEmbedDim == other.ClassEmbedDim
        && ChannelWidth == other.ChannelWidth && NumClasses == other.NumClasses && Layers.SequenceEqual(other.Layers)
        && AttentionLayerPosition == other.AttentionLayerPosition && Eps.Equals(other.Eps) && NStats == other.NStats;

    public override int GetHashCode() => HashCode.Combine(OutputDim, ZDim, ChannelWidth, NumClasses, Layers.Count, AttentionLayerPosition, NStats);

    /// <summary>A one-line summary.</summary>
    public string Describe() =>
        $"BigGAN-deep {OutputDim}x{OutputDim}: z_dim {ZDim}, channel_width {ChannelWidth}, {NumClasses} classes, {Layers.Count} GenBlocks " +
        $"[{string.Join(", ", Layers.Select(l => $"({(l.UpSample ? "up" : "-")} {l.InMultiplier}->{l.OutMultiplier})"))}], " +
        (HasAttention ? $"attention before block {AttentionLayerPosition}" : "no attention") + $", eps {Eps}, n_stats {NStats}";

    private static string Lower(bool b) => b ? "true" : "false";
}
