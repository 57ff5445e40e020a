using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// A taming-transformers VQGAN first stage (VQModel or GumbelVQ): <c>encoder</c>, <c>decoder</c>,
/// <c>quantize</c>, <c>quant_conv</c>, <c>post_quant_conv</c>, with taming's parameter names so its
/// state dicts map 1:1. Weights are frozen (requires_grad false) and the model is in eval mode;
/// gradients flow to the inputs (the latent, for CLIP guidance).
/// </summary>
public sealed class VqganModel : nn.Module
{
    private readonly Encoder encoder;
    private readonly Decoder decoder;
    private readonly Quantizer quantize;
    private readonly Conv2d quant_conv;
    private readonly Conv2d post_quant_conv;

    /// <summary>
    /// Builds the network for <paramref name="config"/> with random weights (TorchSharp's default
    /// initialisation; taming's uniform(-1/n, 1/n) for a VQModel codebook), frozen, in eval mode.
    /// </summary>
    /// <param name="remapUsed">The "used" codebook indices when the config has a <c>remap</c>; when null,
    /// the .npy file the config names is read (relative paths against the config's folder, then the working directory).</param>
    public VqganModel(VqganConfig config, long[]? remapUsed = null, Device? device = null) : base(nameof(VqganModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        TorchRuntime.EnsureInitialized();
        config.Validate();
        Config = config;
        var dd = config.DdConfig;

        IndexRemap? remap = null;
        if (config.Remap is not null || remapUsed is not null)
            remap = new IndexRemap(remapUsed ?? NpyIndexFile.Read(ResolveRemapFile(config)), config.NEmbed, config.RemapUnknownIndex);

        encoder = new Encoder(dd);
        decoder = new Decoder(dd);
        quantize = config.Kind == VqganKind.GumbelVQ
            // GumbelVQ: GumbelQuantize(z_channels, embed_dim, n_embed); quant_conv stays z_channels -> embed_dim.
            ? new GumbelQuantize(dd.ZChannels, config.EmbedDim, config.NEmbed, config.KlWeight, config.Temperature, remap)
            : new VectorQuantizer(config.NEmbed, config.EmbedDim, config.Beta, config.LegacyLoss, remap, config.SaneIndexShape);
        quant_conv = VqganLayers.Conv1x1(dd.ZChannels, config.EmbedDim);
        post_quant_conv = VqganLayers.Conv1x1(config.EmbedDim, dd.ZChannels);

        // taming's VQModel attribute order (its `loss` sits between decoder and quantize and is not built here).
        register_module("encoder", encoder);
        register_module("decoder", decoder);
        register_module("quantize", quantize);
        register_module("quant_conv", quant_conv);
        register_module("post_quant_conv", post_quant_conv);

        foreach (var parameter in parameters()) parameter.requires_grad = false;
        eval();
        if (device is not null) this.to(device);
    }

    /// <summary>The configuration the network was built from.</summary>
    public VqganConfig Config { get; }

    /// <summary>The quantizer module (VectorQuantizer or GumbelQuantize).</summary>
    public Quantizer Quantizer => quantize;

    /// <summary>The codebook [n_embed, embed_dim] (the parameter itself: do not dispose or modify).</summary>
    public Tensor Codebook => quantize.Codebook;

    /// <summary>Image side / latent side: 2^(len(ch_mult)-1).</summary>
    public int DownsamplingFactor => Config.DownsamplingFactor;

    /// <summary>The device the weights live on.</summary>
    public Device Device => quant_conv.weight!.device;

    /// <summary>
    /// The latent [channels, height, width] for an image of the given size: embed_dim channels and the
    /// sides divided by <see cref="DownsamplingFactor"/>, rounded down (as VQGAN+CLIP does; the decoded
    /// image is then latent side * factor).
    /// </summary>
    public (int Channels, int Height, int Width) LatentShape(int height, int width)
    {
        int f = DownsamplingFactor;
        if (height < f || width < f)
            throw new ArgumentOutOfRangeException(nameof(height), $"An image of {width}x{height} is smaller than one latent cell ({f}x{f} pixels).");
        return (Config.EmbedDim, height / f, width / f);
    }

    /// <summary>taming's <c>quant_conv(encoder(x))</c>: image [b, in_channels, H, W] in [-1, 1] to the pre-quantization latent.</summary>
    public Tensor Encode(Tensor x)
    {
        var dd = Config.DdConfig;
        if (x.dim() != 4 || x.shape[1] != dd.InChannels)
            throw new ArgumentException($"Encode expects images [batch, {dd.InChannels}, height, width] in [-1, 1], got [{string.Join(", ", x.shape)}].", nameof(x));
        if (dd.DoubleZ)
            throw new InvalidOperationException("This configuration has double_z = true: the encoder outputs 2*z_channels but quant_conv takes z_channels (taming builds such a VQModel but cannot run it).");
        using var h = encoder.forward(x);
        return NarrowConvolution.Forward(quant_conv, h);
    }

    /// <summary>
    /// Nearest codebook entries of a latent in codebook space [b, embed_dim, h, w] (what <see cref="Decode"/> takes):
    /// z_q with taming's straight-through gradient z + (z_q - z).detach(), and the indices flattened b*h*w (int64).
    /// For a VQModel this is taming's quantizer on z. For a GumbelVQ it is VQGAN+CLIP's nearest-neighbour
    /// quantization against <c>quantize.embed</c> (taming's GumbelQuantize works on encoder features instead:
    /// see <see cref="QuantizeEncoded"/>).
    /// </summary>
    public (Tensor zq, Tensor indices) Quantize(Tensor z) => quantize.NearestEntries(z);

    /// <summary>
    /// taming's <c>quantize(h)</c> on the output of <see cref="Encode"/>: for a VQModel the same as
    /// <see cref="Quantize"/>; for a GumbelVQ the projection to logits and a hard one-hot (see <see cref="GumbelQuantize"/>).
    /// Indices come back flattened b*h*w.
    /// </summary>
    public (Tensor zq, Tensor indices) QuantizeEncoded(Tensor h)
    {
        var output = quantize.Forward(h, computeLoss: false);
        using var indices = output.Indices;
        return (output.ZQ, indices.reshape(-1));
    }

    /// <summary>taming's <c>encode(x)</c>: the quantized latent of an image and its codebook indices (flattened b*h*w).</summary>
    public (Tensor zq, Tensor indices) EncodeQuantized(Tensor x)
    {
        using var h = Encode(x);
        return QuantizeEncoded(h);
    }

    /// <summary>taming's <c>decode(quant)</c> = decoder(post_quant_conv(quant)): latent [b, embed_dim, h, w] to images, roughly in [-1, 1].</summary>
    public Tensor Decode(Tensor zq)
    {
        if (zq.dim() != 4 || zq.shape[1] != Config.EmbedDim)
            throw new ArgumentException($"Decode expects latents [batch, {Config.EmbedDim}, height, width], got [{string.Join(", ", zq.shape)}].", nameof(zq));
        using var z = NarrowConvolution.Forward(post_quant_conv, zq);
        return decoder.forward(z);
    }

    /// <summary>
    /// Decodes codebook indices (flattened b*h*w, remapped ones when the model remaps) for
    /// <paramref name="shape"/> = (batch, height, width, embed_dim), taming's <c>get_codebook_entry</c> convention.
    /// </summary>
    public Tensor DecodeIndices(Tensor indices, long[] shape)
    {
        using var zq = quantize.GetCodebookEntry(indices, shape);
        return Decode(zq);
    }

    /// <summary>
    /// Loads a VQGAN checkpoint (Lightning .ckpt, torch .pt/.pth, .safetensors; loss.* and other non-VQGAN
    /// tensors ignored). Configuration: <paramref name="configYaml"/> when given; otherwise a taming YAML found
    /// beside the checkpoint (see <see cref="VqganConfigDiscovery"/>); otherwise inferred from the weights.
    /// </summary>
    /// <exception cref="FileNotFoundException">The checkpoint or the named config does not exist.</exception>
    /// <exception cref="CheckpointFormatException">Not a VQGAN, or its tensors disagree with the configuration (the message names the tensor).</exception>
    public static VqganModel Load(string checkpoint, string? configYaml = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        TorchRuntime.EnsureInitialized();
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"VQGAN checkpoint '{checkpoint}' does not exist.", checkpoint);
        var configPath = configYaml ?? VqganConfigDiscovery.FindBeside(checkpoint);
        var config = configPath is null ? null : VqganConfig.FromYaml(configPath);

        // Only the VQGAN's tensors are read: a Lightning checkpoint also holds the LPIPS network and the
        // discriminator (loss.*), a Net2NetTransformer its transformer.
        using var stateDict = Checkpoint.Load(checkpoint, VqganCheckpointLayout.IsVqganTensorName);
        if (VqganCheckpointLayout.FindPrefix(stateDict) is null)
            throw new CheckpointFormatException(checkpoint, stateDict.Format,
                VqganCheckpointLayout.DescribeNotVqgan(Checkpoint.Inspect(checkpoint).Tensors.Select(t => t.Name).ToList()));
        return FromStateDict(stateDict, config, device);
    }

    /// <summary>
    /// Builds a VQGAN from a state dict already in memory (its tensors are copied; the state dict stays the caller's).
    /// With no <paramref name="config"/> the configuration is inferred from the tensors. The model goes to
    /// <paramref name="device"/>, or <see cref="TorchRuntime.DefaultDevice"/> when null.
    /// </summary>
    public static VqganModel FromStateDict(StateDict stateDict, VqganConfig? config = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        var prefix = VqganCheckpointLayout.FindPrefix(stateDict)
            ?? throw new CheckpointFormatException(path, stateDict.Format, VqganCheckpointLayout.DescribeNotVqgan(stateDict.Keys));
        if (config is null)
        {
            if (!VqganConfig.TryInferFromStateDict(stateDict, out config, out var problem))
                throw new CheckpointFormatException(path, stateDict.Format, $"cannot infer the VQGAN configuration: {problem} Pass the model's taming YAML config.");
        }
        return FromStateDictUnder(stateDict, prefix, config, device);
    }

    /// <summary>
    /// As <see cref="FromStateDict"/>, for a VQGAN whose tensors sit under <paramref name="prefix"/> (for instance
    /// <c>cond_stage_model.</c>, a Net2NetTransformer's separate conditioning VQGAN) rather than under one of the
    /// <see cref="VqganCheckpointLayout.KnownPrefixes"/>.
    /// </summary>
    public static VqganModel FromStateDictUnder(StateDict stateDict, string prefix, VqganConfig? config = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(prefix);
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        if (!stateDict.ContainsKey(prefix + "encoder.conv_in.weight") || !stateDict.ContainsKey(prefix + "decoder.conv_in.weight"))
            throw new CheckpointFormatException(path, stateDict.Format,
                $"no VQGAN tensors under '{prefix}' (looked for {prefix}encoder.conv_in.weight and {prefix}decoder.conv_in.weight).");
        if (config is null)
        {
            // Inference looks for the known prefixes; give it this VQGAN's tensors with the prefix taken off.
            var shapes = stateDict.Entries
                .Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value.shape, StringComparer.Ordinal);
            if (!VqganConfig.TryInferFromShapes(shapes, stateDict.Describe(), out config, out var problem))
                throw new CheckpointFormatException(path, stateDict.Format, $"cannot infer the VQGAN configuration: {problem} Pass the model's taming YAML config.");
        }
        config = config! with { StateDictPrefix = prefix };
        VqganWeights.CheckKind(stateDict, prefix, config, path);

        long[]? used = null;
        if (config.Remap is not null && stateDict.TryGetValue(prefix + "quantize.used", out var usedTensor))
        {
            using var cpu = usedTensor.to(ScalarType.Int64).cpu().contiguous();
            used = cpu.data<long>().ToArray();
        }

        var model = new VqganModel(config, used);
        try
        {
            VqganWeights.Copy(stateDict, prefix, model, config, path);
            var target = device ?? TorchRuntime.DefaultDevice;
            if (target.type != DeviceType.CPU) model.to(target);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Finds a remap .npy the config names: absolute, beside the config file, or relative to the working directory.</summary>
    private static string ResolveRemapFile(VqganConfig config)
    {
        var remap = config.Remap!;
        var candidates = new List<string>();
        if (Path.IsPathRooted(remap)) candidates.Add(remap);
        else
        {
            if (File.Exists(config.Source)) candidates.Add(Path.Combine(Path.GetDirectoryName(config.Source)!, remap));
            candidates.Add(Path.GetFullPath(remap));
        }
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"The VQGAN config ({config.Source}) remaps codebook indices with '{remap}', which was not found " +
                $"(looked at {string.Join(", ", candidates)}) and the checkpoint carries no quantize.used tensor. " +
                "Put that .npy file there, or pass the used indices to the VqganModel constructor.", remap);
    }
}
