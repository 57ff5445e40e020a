using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// taming-transformers' second stage (<c>taming/models/cond_transformer.py</c>, Net2NetTransformer): a frozen
/// first-stage VQGAN (<c>first_stage_model</c>) whose codebook indices are the image tokens, a conditioning stage
/// (<c>cond_stage_model</c>: SOS token, class label, a VQGAN's codes, coordinates), the permuter (Identity) and a
/// <see cref="Gpt"/> (<c>transformer</c>) over cat(conditioning tokens, image tokens). Module names match upstream,
/// so <c>state_dict()</c> keys are <c>first_stage_model.*</c>, <c>cond_stage_model.*</c> (a separate conditioning
/// VQGAN only) and <c>transformer.*</c>. The VQGANs always stay frozen and in eval mode (upstream's
/// <c>disabled_train</c>); the GPT follows <c>train()</c>/<c>eval()</c> and is frozen after <see cref="Load"/>
/// (<see cref="Gpt.SetRequiresGrad"/> unfreezes it for training).
/// </summary>
public sealed class Net2NetTransformer : nn.Module
{
    /// <summary>Prefix of the first stage's tensors in a Net2NetTransformer state dict.</summary>
    public const string FirstStagePrefix = "first_stage_model.";

    /// <summary>Prefix of a separate conditioning VQGAN's tensors.</summary>
    public const string CondStagePrefix = "cond_stage_model.";

    /// <summary>Prefix of the GPT's tensors.</summary>
    public const string TransformerPrefix = "transformer.";

#pragma warning disable IDE1006 // taming's attribute names
    private readonly VqganModel first_stage_model;
    private readonly VqganModel? cond_stage_model;
    private readonly Gpt transformer;
#pragma warning restore IDE1006

    /// <summary>
    /// Assembles a transformer from its parts, taking ownership of them: <paramref name="firstStage"/> (frozen here),
    /// <paramref name="transformer"/>, and for <see cref="ConditioningKind.Vqgan"/> the conditioning VQGAN
    /// <paramref name="condStage"/>. The parts must match <paramref name="config"/>. For a trainer: a trained VQGAN
    /// and <c>new Gpt(config.Gpt)</c>.
    /// </summary>
    /// <param name="captionStage">For <see cref="ConditioningKind.Caption"/>: the caption stage (its token table is saved as <c>cond_stage_model.bpe_ids</c>).</param>
    public Net2NetTransformer(TransformerConfig config, VqganModel firstStage, Gpt transformer, VqganModel? condStage = null, CaptionConditioning? captionStage = null)
        : base(nameof(Net2NetTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(firstStage);
        ArgumentNullException.ThrowIfNull(transformer);
        TorchRuntime.EnsureInitialized();
        config.Validate();
        if (transformer.Config.VocabSize != config.Gpt.VocabSize || transformer.Config.BlockSize != config.Gpt.BlockSize
            || transformer.Config.NLayer != config.Gpt.NLayer || transformer.Config.NEmbd != config.Gpt.NEmbd || transformer.Config.NHead != config.Gpt.NHead)
            throw new ArgumentException($"The GPT ({transformer.Config.Describe()}) is not the one the configuration describes ({config.Gpt.Describe()}).", nameof(transformer));
        if (firstStage.Config.NEmbed != config.FirstStage.NEmbed || firstStage.Config.EmbedDim != config.FirstStage.EmbedDim)
            throw new ArgumentException($"The first stage (n_embed {firstStage.Config.NEmbed}, embed_dim {firstStage.Config.EmbedDim}) is not the one the configuration describes (n_embed {config.FirstStage.NEmbed}, embed_dim {config.FirstStage.EmbedDim}).", nameof(firstStage));
        if (config.Conditioning.Kind == ConditioningKind.Vqgan && condStage is null)
            throw new ArgumentException("The configuration names a separate conditioning VQGAN; pass it.", nameof(condStage));
        if (config.Conditioning.Kind != ConditioningKind.Vqgan && condStage is not null)
            throw new ArgumentException($"A conditioning VQGAN was passed but the configuration's conditioning is {config.Conditioning.Describe()}.", nameof(condStage));

        if (config.Conditioning.Kind == ConditioningKind.Caption)
        {
            if (captionStage is null) throw new ArgumentException("The configuration names a caption conditioning stage; pass it.", nameof(captionStage));
            if (captionStage.Offset != config.Conditioning.CaptionOffset || captionStage.ContextLength != config.Conditioning.CaptionContextLength)
                throw new ArgumentException($"The caption stage (offset {captionStage.Offset}, {captionStage.ContextLength} tokens) is not the one the configuration describes ({config.Conditioning.Describe()}).", nameof(captionStage));
            if (captionStage.VocabularyNeeded > config.Gpt.VocabSize)
                throw new ArgumentException($"The caption stage needs {captionStage.VocabularyNeeded} GPT tokens (codes, {captionStage.KnownTokens} caption tokens, unknown, padding) but vocab_size is {config.Gpt.VocabSize}.", nameof(captionStage));
        }
        else if (captionStage is not null)
            throw new ArgumentException($"A caption stage was passed but the configuration's conditioning is {config.Conditioning.Describe()}.", nameof(captionStage));

        Config = config;
        first_stage_model = firstStage;
        cond_stage_model = condStage;
        this.transformer = transformer;
        Permuter = TokenPermuters.FromTarget(config.PermuterTarget);
        CondStage = config.Conditioning.Kind switch
        {
            ConditioningKind.Unconditional => new SosProvider(config.SosToken),
            ConditioningKind.ClassLabel => new Labelator(config.Conditioning.NClasses),
            ConditioningKind.FirstStage => new VqganConditioningStage(firstStage, isFirstStage: true),
            ConditioningKind.Vqgan => new VqganConditioningStage(condStage!, isFirstStage: false, config.Conditioning.Target),
            ConditioningKind.Coord => new CoordStage(config.Conditioning.CoordNEmbed, config.Conditioning.CoordDownFactor),
            ConditioningKind.Caption => captionStage!,
            _ => throw new ArgumentException($"Unknown conditioning kind {config.Conditioning.Kind}.", nameof(config)),
        };

        // upstream's attribute order; a shared first stage is registered once (upstream's state_dict repeats it under cond_stage_model.)
        register_module("first_stage_model", first_stage_model);
        if (cond_stage_model is not null) register_module("cond_stage_model", cond_stage_model);
        if (captionStage is not null) register_module("cond_stage_model", captionStage);
        register_module("transformer", transformer);
        FreezeStages();
    }

    /// <summary>The configuration.</summary>
    public TransformerConfig Config { get; }

    /// <summary>The first-stage VQGAN (frozen).</summary>
    public VqganModel FirstStage => first_stage_model;

    /// <summary>The GPT.</summary>
    public Gpt Transformer => transformer;

    /// <summary>The conditioning stage.</summary>
    public IConditioningStage CondStage { get; }

    /// <summary>The permuter of the image tokens.</summary>
    public ITokenPermuter Permuter { get; }

    /// <summary>The device the GPT lives on.</summary>
    public Device Device => transformer.Device;

    private void FreezeStages()
    {
        foreach (var p in first_stage_model.parameters()) p.requires_grad = false;
        first_stage_model.eval();
        if (cond_stage_model is not null)
        {
            foreach (var p in cond_stage_model.parameters()) p.requires_grad = false;
            cond_stage_model.eval();
        }
    }

    /// <summary>Sets the GPT's mode; the VQGANs stay in eval mode (upstream replaces their <c>train</c> with <c>disabled_train</c>).</summary>
    public override void train(bool train = true)
    {
        base.train(train);
        first_stage_model.eval();
        cond_stage_model?.eval();
    }

    /// <summary>
    /// upstream's <c>encode_to_z</c>: the first stage's quantized latent of images [B, 3, H, W] in [-1, 1] and its
    /// indices [B, h*w] in GPT order (after the permuter). No gradients.
    /// </summary>
    public (Tensor Quant, Tensor Indices) EncodeToZ(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (quant, indices) = first_stage_model.EncodeQuantized(image.to(first_stage_model.Device));
        var permuted = Permuter.Forward(indices.view(quant.shape[0], -1));
        return (quant.MoveToOuterDisposeScope(), permuted.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// upstream's <c>encode_to_c</c>: the conditioning tokens [B, L] of a batch's conditioning (class ids for a
    /// class-conditional model, images or maps for a VQGAN stage; for an unconditional model any tensor whose first
    /// axis is the batch), resized first when <c>downsample_cond_size</c> is set.
    /// </summary>
    public Tensor EncodeToC(Tensor conditioning)
    {
        ArgumentNullException.ThrowIfNull(conditioning);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var c = conditioning;
        if (Config.DownsampleCondSize > -1 && c.dim() == 4)
            // upstream: F.interpolate(c, size=(s, s)), nearest
            c = torch.nn.functional.interpolate(c, size: new long[] { Config.DownsampleCondSize, Config.DownsampleCondSize });
        var tokens = CondStage.Encode(c).to(Device);
        Gpt.CheckTokens(tokens, transformer.VocabSize, "the GPT's");
        return tokens.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// upstream's <c>decode_to_img</c>: image tokens [B, h*w] (GPT order) back to images [B, 3, H, W] through the
    /// first stage, for <paramref name="zshape"/> = (B, embed_dim, h, w), the shape of the quantized latent.
    /// </summary>
    public Tensor DecodeToImage(Tensor indices, long[] zshape)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(zshape);
        if (zshape.Length != 4)
            throw new ArgumentException($"zshape is (batch, embed_dim, height, width), got ({string.Join(", ", zshape)}).", nameof(zshape));
        if (indices.numel() != zshape[0] * zshape[2] * zshape[3])
            throw new ArgumentException($"{indices.numel()} tokens do not fill a {zshape[0]}x{zshape[2]}x{zshape[3]} grid (zshape ({string.Join(", ", zshape)})).", nameof(indices));
        Gpt.CheckTokens(indices, first_stage_model.Config.NEmbed, "the first stage's codebook");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var raster = Permuter.Forward(indices.reshape(zshape[0], -1).to(first_stage_model.Device), reverse: true);
        // get_codebook_entry takes (b, h, w, c), taming's bhwc = (zshape[0], zshape[2], zshape[3], zshape[1])
        var bhwc = new[] { zshape[0], zshape[2], zshape[3], zshape[1] };
        return first_stage_model.DecodeIndices(raster.reshape(-1), bhwc).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="DecodeToImage(Tensor, long[])"/> for tokens [B, <paramref name="height"/> * <paramref name="width"/>]
    /// of a <paramref name="height"/>×<paramref name="width"/> latent grid (image side / the first stage's downsampling factor).
    /// </summary>
    public Tensor DecodeToImage(Tensor indices, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return DecodeToImage(indices, new long[] { indices.shape[0], first_stage_model.Config.EmbedDim, height, width });
    }

    /// <summary>
    /// The training forward on images and their conditioning (upstream's <c>forward(x, c)</c>): logits
    /// [B, h*w, V] for every image token and the target tokens [B, h*w]. See <see cref="ForwardTokens"/>.
    /// </summary>
    public (Tensor Logits, Tensor Target) Forward(Tensor image, Tensor conditioning, Generator? generator = null)
    {
        var (quant, z) = EncodeToZ(image);
        quant.Dispose();
        using (z)
        {
            using var c = EncodeToC(conditioning);
            return ForwardTokens(z, c, generator);
        }
    }

    /// <summary>
    /// The training forward on token ids already encoded (a trainer encodes its data set once):
    /// <c>logits = gpt(cat(c, z)[:, :-1])[:, len(c) - 1:]</c>, so output i is p(z_i | z_&lt;i, c), and the target is z.
    /// In training mode with pkeep &lt; 1 each input token is replaced by a random one with probability 1 - pkeep
    /// (drawn from <paramref name="generator"/>); the target stays z. Gradients flow to the GPT.
    /// </summary>
    public (Tensor Logits, Tensor Target) ForwardTokens(Tensor zIndices, Tensor cIndices, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(zIndices);
        ArgumentNullException.ThrowIfNull(cIndices);
        if (zIndices.dim() != 2 || cIndices.dim() != 2 || zIndices.shape[0] != cIndices.shape[0])
            throw new ArgumentException($"Expected image tokens [B, L] and conditioning tokens [B, Lc] with the same B, got [{string.Join(", ", zIndices.shape)}] and [{string.Join(", ", cIndices.shape)}].");
        long condLength = cIndices.shape[1];
        if (condLength < 1) throw new ArgumentException("At least one conditioning token is needed (upstream predicts the first image token from the last conditioning token).", nameof(cIndices));
        if (condLength + zIndices.shape[1] - 1 > transformer.BlockSize)
            throw new ArgumentException(
                $"{condLength} conditioning and {zIndices.shape[1]} image tokens need {condLength + zIndices.shape[1] - 1} positions, but the GPT's block_size is {transformer.BlockSize}.", nameof(zIndices));
        using var scope = torch.NewDisposeScope();
        var z = zIndices.to(Device);
        var a = z;
        if (transformer.training && Config.PKeep < 1.0)
        {
            var keep = torch.rand(z.shape, generator: generator, device: z.device).lt(Config.PKeep);
            var random = torch.randint(transformer.VocabSize, z.shape, generator: generator, dtype: ScalarType.Int64, device: z.device);
            a = torch.where(keep, z, random);
        }
        var cz = torch.cat(new[] { cIndices.to(Device), a }, 1);
        var logits = transformer.forward(cz.narrow(1, 0, cz.shape[1] - 1));
        // cut off the conditioning outputs: output i corresponds to p(z_i | z_<i, c)
        var kept = logits.narrow(1, condLength - 1, logits.shape[1] - condLength + 1);
        return (kept.MoveToOuterDisposeScope(), z.clone().MoveToOuterDisposeScope());
    }

    /// <summary>upstream's <c>shared_step</c> loss: mean cross-entropy of the logits against the targets.</summary>
    public static Tensor Loss(Tensor logits, Tensor target) => Gpt.CrossEntropy(logits, target);

    /// <summary>
    /// Samples <paramref name="steps"/> image tokens after the conditioning tokens <paramref name="cIndices"/>
    /// [B, Lc] and an optional <paramref name="prefix"/> [B, Lp] of image tokens; returns [B, Lp + steps]
    /// (see <see cref="GptSampler.Sample"/>). With the cache this is mingpt's <c>sample_with_past</c>, without it
    /// upstream's <c>Net2NetTransformer.sample</c>. For a whole picture, steps = h*w of the latent grid.
    /// </summary>
    public Tensor Sample(Tensor cIndices, int steps, SamplingOptions? options = null, Tensor? prefix = null, bool useCache = true,
        SamplingStepCallback? onStep = null, Tensor? unconditional = null) =>
        GptSampler.Sample(transformer, cIndices, steps, ImageTokensOnly(options), prefix, useCache, onStep, unconditional);

    /// <summary>The options with <see cref="SamplingOptions.TokenLimit"/> at the codebook size when the GPT's vocabulary
    /// is larger (conditioning tokens after the codes), so only image codes are drawn for image positions.</summary>
    public SamplingOptions ImageTokensOnly(SamplingOptions? options)
    {
        options ??= new SamplingOptions();
        int codes = first_stage_model.Config.NEmbed;
        return options.TokenLimit is null && transformer.Config.VocabSize > codes ? options with { TokenLimit = codes } : options;
    }

    /// <summary>
    /// The sliding-window sampler (<see cref="SlidingWindowSampler"/>) over a code grid [B, H, W] larger than the
    /// training window, conditioned on codes of the same grid [B, H, W] or a token sequence [B, L].
    /// </summary>
    public Tensor SampleSlidingWindow(Tensor codes, Tensor conditioning, SamplingOptions? options = null, int window = SlidingWindowSampler.DefaultWindow,
        Action<SlidingWindowStep, Tensor>? onStep = null) =>
        SlidingWindowSampler.Sample(transformer, codes, conditioning, ImageTokensOnly(options), window, onStep);

    /// <summary>
    /// Loads a Net2NetTransformer checkpoint: a Lightning <c>last.ckpt</c> (or any torch.save / safetensors file with
    /// the same names: <c>first_stage_model.*</c>, <c>cond_stage_model.*</c>, <c>transformer.*</c>). Configuration:
    /// <paramref name="configYaml"/> when given; otherwise a YAML found beside the checkpoint (same name, a
    /// <c>*-project.yaml</c> beside it or in <c>../configs/</c> as in a Lightning log folder; see
    /// <see cref="VqganConfigDiscovery"/>); otherwise the YAML a file written by <see cref="Save"/> carries in its
    /// metadata; otherwise read from the weights with <paramref name="hints"/> for what
    /// they cannot tell (n_head; unconditional or class-conditional). Frozen, eval mode, on <paramref name="device"/>
    /// (<see cref="TorchRuntime.DefaultDevice"/> when null).
    /// </summary>
    /// <exception cref="FileNotFoundException">The checkpoint or the named config does not exist.</exception>
    /// <exception cref="CheckpointFormatException">Not a transformer (a VQGAN, a CLIP, ...), weights that disagree with the YAML (the message names the tensor and both shapes), or a configuration that cannot be inferred (the message names the value needed).</exception>
    /// <exception cref="InvalidDataException">A YAML that is not a Net2NetTransformer config.</exception>
    public static Net2NetTransformer Load(string checkpoint, string? configYaml = null, TransformerLoadHints? hints = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        TorchRuntime.EnsureInitialized();
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"Transformer checkpoint '{checkpoint}' does not exist.", checkpoint);
        if (configYaml is not null && !File.Exists(configYaml) && !configYaml.Contains('\n'))
            throw new FileNotFoundException($"Transformer config '{configYaml}' does not exist.", configYaml);
        // What the file is comes first (names only, no tensor data): a VQGAN's own YAML beside a VQGAN checkpoint
        // should not be the error a user sees.
        var info = Checkpoint.Inspect(checkpoint);
        var names = info.Tensors.Select(t => t.Name).ToList();
        if (!names.Contains(TransformerPrefix + "tok_emb.weight"))
            throw new CheckpointFormatException(checkpoint, Checkpoint.DetectFormat(checkpoint), DescribeNotTransformer(names));
        var configPath = configYaml ?? VqganConfigDiscovery.FindBeside(checkpoint);
        TransformerConfig? config = null;
        if (configPath is not null)
        {
            try
            {
                config = TransformerConfig.FromYaml(configPath);
            }
            catch (InvalidDataException e) when (configYaml is null)
            {
                throw new InvalidDataException($"The config found beside the checkpoint is not usable for a transformer: {e.Message} Pass the right one explicitly.", e);
            }
        }
        else if (info.Metadata.TryGetValue(ConfigMetadataKey, out var embedded))
        {
            // files written by Save carry their project YAML in the safetensors header
            config = TransformerConfig.FromYaml(embedded) with { Source = $"the config stored in {checkpoint}" };
        }

        // A Lightning checkpoint also holds the first stage's loss (LPIPS, discriminator): not needed here.
        using var stateDict = Checkpoint.Load(checkpoint, IsNet2NetTensorName);
        if (config?.FirstStage.CkptPath is { } ckptPath && !stateDict.ContainsKey(FirstStagePrefix + "encoder.conv_in.weight"))
        {
            // The first stage lives in its own file, named by first_stage_config.params.ckpt_path (taming's VQModel
            // loads it at construction).
            var firstStagePath = ResolveFirstStagePath(ckptPath, configPath, checkpoint);
            using var firstStageWeights = Checkpoint.Load(firstStagePath, VqganCheckpointLayout.IsVqganTensorName);
            return FromStateDict(stateDict, config, hints, device, firstStageWeights);
        }
        return FromStateDict(stateDict, config, hints, device);
    }

    /// <summary>
    /// Where <c>first_stage_config.params.ckpt_path</c> points: an absolute path as is; a relative one beside the YAML
    /// that names it (or beside the checkpoint when the YAML came from its metadata), then from the working directory
    /// (taming's convention, which resolves against the directory main.py runs in).
    /// </summary>
    private static string ResolveFirstStagePath(string ckptPath, string? configPath, string checkpoint)
    {
        if (Path.IsPathRooted(ckptPath))
            return File.Exists(ckptPath) ? ckptPath : throw MissingFirstStage(ckptPath, new[] { ckptPath }, checkpoint);
        var tried = new List<string>();
        foreach (var folder in new[] { configPath is null ? null : Path.GetDirectoryName(Path.GetFullPath(configPath)), Path.GetDirectoryName(Path.GetFullPath(checkpoint)), Directory.GetCurrentDirectory() })
        {
            if (folder is null) continue;
            var candidate = Path.Combine(folder, ckptPath);
            if (tried.Contains(candidate)) continue;
            tried.Add(candidate);
            if (File.Exists(candidate)) return candidate;
        }
        throw MissingFirstStage(ckptPath, tried, checkpoint);
    }

    private static FileNotFoundException MissingFirstStage(string ckptPath, IEnumerable<string> tried, string checkpoint) =>
        new($"Transformer checkpoint '{checkpoint}' holds no first stage, and its first_stage_config.params.ckpt_path " +
            $"'{ckptPath}' was not found (looked at {string.Join(", ", tried)}). Put the first-stage VQGAN file there.", ckptPath);

    /// <summary>
    /// Builds a transformer from a state dict in memory (tensors copied; the state dict stays the caller's), with
    /// <paramref name="config"/> or, when null, the configuration inferred from the tensors and <paramref name="hints"/>.
    /// </summary>
    /// <param name="firstStageWeights">The first stage's own checkpoint (its tensors at the top level or under a known VQGAN
    /// prefix) when <paramref name="stateDict"/> holds none: a model saved with its first stage in a separate file.</param>
    public static Net2NetTransformer FromStateDict(StateDict stateDict, TransformerConfig? config = null, TransformerLoadHints? hints = null, Device? device = null,
        StateDict? firstStageWeights = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        TorchRuntime.EnsureInitialized();
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        if (!stateDict.ContainsKey(TransformerPrefix + "tok_emb.weight"))
            throw new CheckpointFormatException(path, stateDict.Format, DescribeNotTransformer(stateDict.Keys));
        if (config is null)
        {
            if (!TransformerConfig.TryInferFromStateDict(stateDict, hints, out config, out var problem))
                throw new CheckpointFormatException(path, stateDict.Format, $"cannot read the transformer's configuration from the weights: {problem}");
        }
        string? firstStagePrefix = FirstStagePrefix;
        var firstStageSource = stateDict;
        if (firstStageWeights is not null && !stateDict.ContainsKey(FirstStagePrefix + "encoder.conv_in.weight"))
        {
            firstStageSource = firstStageWeights;
            firstStagePrefix = VqganCheckpointLayout.FindPrefix(firstStageWeights)
                ?? throw new CheckpointFormatException(firstStageWeights.SourcePath ?? "(first stage in memory)", firstStageWeights.Format,
                    "the transformer's first stage file is not a VQGAN: " + VqganCheckpointLayout.DescribeNotVqgan(firstStageWeights.Keys));
        }
        else if (!stateDict.ContainsKey(FirstStagePrefix + "encoder.conv_in.weight"))
            throw new CheckpointFormatException(path, stateDict.Format,
                $"it holds transformer.* tensors but no first stage ({FirstStagePrefix}encoder.conv_in.weight), and its configuration names no " +
                "first_stage_config.params.ckpt_path: a Net2NetTransformer needs its VQGAN to decode.");

        var target = device ?? TorchRuntime.DefaultDevice;
        var parts = new List<IDisposable>();
        try
        {
            var firstStage = VqganModel.FromStateDictUnder(firstStageSource, firstStagePrefix, config!.FirstStage with { StateDictPrefix = firstStagePrefix }, target);
            parts.Add(firstStage);
            VqganModel? condStage = null;
            if (config.Conditioning.Kind == ConditioningKind.Vqgan)
            {
                condStage = VqganModel.FromStateDictUnder(stateDict, CondStagePrefix, config.Conditioning.Vqgan, target);
                parts.Add(condStage);
            }
            CaptionConditioning? captionStage = null;
            if (config.Conditioning.Kind == ConditioningKind.Caption)
            {
                captionStage = CaptionConditioning.FromStateDict(stateDict, CondStagePrefix, config.Conditioning);
                parts.Add(captionStage);
            }
            var gpt = Gpt.FromStateDict(stateDict, TransformerPrefix, config.Gpt, device: target);
            parts.Add(gpt);
            return new Net2NetTransformer(config, firstStage, gpt, condStage, captionStage);
        }
        catch
        {
            foreach (var part in parts) part.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the model as one safetensors file with taming's names (<c>first_stage_model.*</c>, <c>cond_stage_model.*</c>,
    /// <c>transformer.*</c>) and its project YAML beside it (same stem, <c>.yaml</c>), which <see cref="Load"/> finds;
    /// the YAML is also stored in the file's metadata, so the file loads on its own.
    /// </summary>
    /// <param name="metadata">String metadata stored in the file's header (producer, step, ...).</param>
    /// <param name="firstStageFile">When given, the first stage is not written into <paramref name="path"/>: the YAML's
    /// <c>first_stage_config.params.ckpt_path</c> names this file (a path relative to <paramref name="path"/>'s folder,
    /// e.g. a VQGAN safetensors beside it), which must exist when the model is loaded. Keeps each file small and lets the
    /// first stage be loaded as a VQGAN on its own.</param>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null, string? firstStageFile = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var config = firstStageFile is null ? Config : Config with { FirstStage = Config.FirstStage with { CkptPath = firstStageFile } };
        var yaml = config.ToYaml();
        var header = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = "pt",
            ["target"] = TransformerConfig.Net2NetTarget,
            [ConfigMetadataKey] = yaml,
        };
        var tensors = state_dict().Where(kv => firstStageFile is null || !kv.Key.StartsWith(FirstStagePrefix, StringComparison.Ordinal));
        SafeTensors.Write(full, tensors.Select(kv => (kv.Key, kv.Value.detach().contiguous())), header);
        File.WriteAllText(Path.ChangeExtension(full, ".yaml"), yaml);
    }

    /// <summary>The safetensors metadata key under which <see cref="Save"/> stores the project YAML, so the file alone
    /// loads (n_head and the conditioning cannot be read from weights).</summary>
    public const string ConfigMetadataKey = "taming_project_yaml";

    /// <summary>The tensors a Net2NetTransformer reads (its first stage's loss tensors are skipped).</summary>
    public static bool IsNet2NetTensorName(string name)
    {
        if (name.StartsWith(TransformerPrefix, StringComparison.Ordinal)) return true;
        foreach (var prefix in new[] { FirstStagePrefix, CondStagePrefix })
            if (name.StartsWith(prefix, StringComparison.Ordinal))
                return !name.AsSpan(prefix.Length).StartsWith("loss.", StringComparison.Ordinal);
        return false;
    }

    /// <summary>Explains why a checkpoint is not a Net2NetTransformer, naming what it looks like instead.</summary>
    public static string DescribeNotTransformer(IReadOnlyList<string> keys)
    {
        var names = keys.ToHashSet(StringComparer.Ordinal);
        string looksLike;
        if (VqganCheckpointLayout.FindPrefix(names.Contains) == "")
            looksLike = " It is a VQGAN (first-stage) checkpoint: load it with VqganModel.Load.";
        else if (keys.Any(k => k.StartsWith("visual.", StringComparison.Ordinal) || k == "logit_scale" || k == "token_embedding.weight"
                               || k.StartsWith("text_model.", StringComparison.Ordinal) || k.StartsWith("vision_model.", StringComparison.Ordinal)))
            looksLike = " It looks like a CLIP model (visual.* / text_model.* / logit_scale tensors).";
        else if (names.Contains("tok_emb.weight") && names.Contains("pos_emb"))
            looksLike = " It holds a bare GPT (tok_emb / pos_emb at the top level) without a first stage: load it with Gpt.FromStateDict.";
        else if (keys.Count == 0)
            looksLike = " It holds no tensors.";
        else
            looksLike = "";
        var sample = string.Join(", ", keys.Take(5));
        return $"not a taming Net2NetTransformer: no '{TransformerPrefix}tok_emb.weight' tensor.{looksLike}" +
               (keys.Count > 0 ? $" First tensors: {sample}{(keys.Count > 5 ? ", ..." : "")}." : "");
    }
}
