using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.BigGan;

/// <summary>
/// pytorch-pretrained-BigGAN's <c>BigGAN</c> (BigGAN-deep generator): <c>embeddings</c> (Linear num_classes → z_dim,
/// no bias) and <c>generator</c>, with upstream's parameter and buffer names, so its <c>state_dict()</c> keys
/// (spectral norm's weight_orig / weight_u / weight_v included) map one to one. Two forwards over the same weights:
/// <see cref="Forward"/> (upstream's, one (z, class) per image) and <see cref="ForwardPerBlock"/> (Big Sleep's
/// per-block latents). Built or loaded, the model is frozen (no parameter requires grad) and in eval mode with every
/// spectral norm folded; gradients flow to the inputs. A trainer may set requires_grad and call train(): see
/// <see cref="SpectralNormLayer"/> and <see cref="BigGanBatchNorm"/> for what training mode does.
/// </summary>
public sealed class BigGanModel : nn.Module
{
#pragma warning disable IDE1006
    private readonly Linear embeddings;
    private readonly BigGanGenerator generator;
#pragma warning restore IDE1006

    /// <summary>Builds the network for <paramref name="config"/> with random weights, frozen, in eval mode.</summary>
    public BigGanModel(BigGanConfig config, Device? device = null) : base(nameof(BigGanModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        TorchRuntime.EnsureInitialized();
        config.Validate();
        Config = config;
        embeddings = nn.Linear(config.NumClasses, config.ZDim, hasBias: false);
        generator = new BigGanGenerator(config);
        register_module("embeddings", embeddings);
        register_module("generator", generator);
        ModuleTensors.DetachFromDisposeScopes(this);
        foreach (var parameter in parameters()) parameter.requires_grad = false;
        if (device is not null)
        {
            this.to(device);
            ModuleTensors.DetachFromDisposeScopes(this);
        }
        eval();
    }

    /// <summary>The configuration the network was built from.</summary>
    public BigGanConfig Config { get; }

    /// <summary>The generator (upstream's <c>generator</c> module).</summary>
    public BigGanGenerator Generator => generator;

    /// <summary>The class embedding (upstream's <c>embeddings</c>, weight [z_dim, num_classes]).</summary>
    public Linear Embeddings => embeddings;

    /// <summary>Side of the generated images.</summary>
    public int ImageSize => Config.OutputDim;

    /// <summary>
    /// The classes' names, line i naming class i (set by <see cref="Load"/>: <c>&lt;stem&gt;.classes.txt</c> beside the
    /// weights, else ImageNet's for a 1000-class model; null when none is known). What lets CLIP choose a class.
    /// </summary>
    public Transformer.ClassNames? ClassNames { get; set; }

    /// <summary>Rows <see cref="ForwardPerBlock"/> needs: len(layers) + 1.</summary>
    public int NumLatents => Config.NumLatents;

    /// <summary>The device the weights live on.</summary>
    public Device Device => embeddings.weight!.device;

    /// <summary>
    /// upstream's <c>BigGAN.forward(z, class_label, truncation)</c>: cond = cat(z, embeddings(class)), the same cond for
    /// gen_z and every GenBlock. z [B, z_dim] (upstream's samples are already multiplied by the truncation:
    /// truncated_noise_sample), class vector [B, num_classes] (one-hot or soft), 0 &lt; truncation ≤ 1 (it picks the
    /// batch norms' standing statistics). Returns images [B, 3, H, W] in [-1, 1].
    /// </summary>
    public Tensor Forward(Tensor z, Tensor classVector, double truncation)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(classVector);
        CheckTruncation(truncation);
        if (z.dim() != 2 || z.shape[1] != Config.ZDim)
            throw new ArgumentException($"Forward expects z [batch, {Config.ZDim}], got [{string.Join(", ", z.shape)}].", nameof(z));
        if (classVector.dim() != 2 || classVector.shape[1] != Config.NumClasses || classVector.shape[0] != z.shape[0])
            throw new ArgumentException($"Forward expects class vectors [{z.shape[0]}, {Config.NumClasses}], got [{string.Join(", ", classVector.shape)}].", nameof(classVector));

        using var scope = NewDisposeScope();
        var cond = cat([z, embeddings.forward(classVector)], 1);
        return generator.Forward(cond, _ => cond, truncation).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Big Sleep's forward (lucidrains/big-sleep big_sleep/biggan.py): cond = cat(latents, embeddings(classes)) row by
    /// row; row 0 feeds gen_z, row k+1 feeds GenBlock k (the attention layer takes none), each as a batch of 1.
    /// latents [L, z_dim], classes [L, num_classes] (Big Sleep passes sigmoid(cls)), L ≥ <see cref="NumLatents"/>;
    /// rows past NumLatents are unused, as upstream (the original notebook allocated 32). Returns [1, 3, H, W] in [-1, 1].
    /// </summary>
    public Tensor ForwardPerBlock(Tensor latents, Tensor classes, double truncation = 1.0)
    {
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(classes);
        CheckTruncation(truncation);
        if (latents.dim() != 2 || latents.shape[1] != Config.ZDim || latents.shape[0] < NumLatents)
            throw new ArgumentException($"ForwardPerBlock expects latents [{NumLatents} (or more), {Config.ZDim}] (one row for gen_z and one per GenBlock), got [{string.Join(", ", latents.shape)}].", nameof(latents));
        if (classes.dim() != 2 || classes.shape[1] != Config.NumClasses || classes.shape[0] != latents.shape[0])
            throw new ArgumentException($"ForwardPerBlock expects classes [{latents.shape[0]}, {Config.NumClasses}], got [{string.Join(", ", classes.shape)}].", nameof(classes));

        using var scope = NewDisposeScope();
        var cond = cat([latents, embeddings.forward(classes)], 1);
        return generator.Forward(cond.narrow(0, 0, 1), block => cond.narrow(0, block + 1, 1), truncation).MoveToOuterDisposeScope();
    }

    /// <summary>Every spectral-norm layer with its state-dict prefix (e.g. <c>generator.layers.0.bn_0.scale</c>).</summary>
    public IEnumerable<(string Name, SpectralNormLayer Layer)> SpectralNormLayers() =>
        named_modules().Where(m => m.module is SpectralNormLayer).Select(m => (m.name, (SpectralNormLayer)m.module));

    /// <summary>Re-folds every spectral norm (W = weight_orig/σ) from the current weight_orig, u and v.</summary>
    public void FoldSpectralNorms()
    {
        foreach (var (_, layer) in SpectralNormLayers()) layer.Fold();
    }

    /// <summary>
    /// Loads a BigGAN-deep state dict: the published <c>pytorch_model.bin</c> (legacy torch.save pickle), a torch zip,
    /// or <c>.safetensors</c>. Configuration: <paramref name="configJson"/> when given; else a config.json beside the
    /// weights (<see cref="BigGanCheckpointLayout.FindConfigBeside"/>); else the config <see cref="Save"/> stores in
    /// safetensors metadata. The up-sampling flags are not in the weights, so one of these must exist.
    /// </summary>
    /// <exception cref="FileNotFoundException">The weights or the named config do not exist.</exception>
    /// <exception cref="CheckpointFormatException">Truncated or unreadable file, not a BigGAN, no configuration, or
    /// tensors that disagree with the configuration (the message names the tensor and both shapes).</exception>
    /// <exception cref="FormatException">The config JSON is not JSON, lacks a key or has a value of the wrong type (named).</exception>
    /// <exception cref="ArgumentException">The config's values cannot describe a BigGAN-deep (<see cref="BigGanConfig.Validate"/>, named).</exception>
    /// <exception cref="InvalidDataException">A class-names file beside the weights that is malformed or does not name exactly the model's classes.</exception>
    public static BigGanModel Load(string path, string? configJson = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        TorchRuntime.EnsureInitialized();
        if (!File.Exists(path)) throw new FileNotFoundException($"BigGAN weights '{path}' do not exist.", path);
        if (configJson is not null && !File.Exists(configJson)) throw new FileNotFoundException($"BigGAN config '{configJson}' does not exist.", configJson);

        var info = Checkpoint.Inspect(path);
        var names = info.Tensors.Select(t => t.Name).ToList();
        if (!BigGanCheckpointLayout.LooksLikeBigGan(names.ToHashSet()))
            throw new CheckpointFormatException(path, info.Format, BigGanCheckpointLayout.DescribeNotBigGan(names));

        BigGanConfig config;
        var configPath = configJson ?? BigGanCheckpointLayout.FindConfigBeside(path);
        if (configPath is not null)
            config = BigGanConfig.FromJsonFile(configPath);
        else if (info.Metadata.TryGetValue(BigGanCheckpointLayout.ConfigMetadataKey, out var stored))
            config = BigGanConfig.FromJson(stored, $"{path} metadata");
        else
            throw new CheckpointFormatException(path, info.Format,
                "no BigGAN configuration: no config.json beside the weights and none stored in the file. The up-sampling flags are not recorded in the weights; " +
                "pass the config.json published with them (e.g. biggan-deep-128-config.json).");

        using var stateDict = Checkpoint.Load(path, BigGanCheckpointLayout.IsBigGanTensorName);
        var model = FromStateDict(stateDict, config, device);
        try
        {
            model.ClassNames = Transformer.ClassNames.For(path, config.NumClasses);
        }
        catch (InvalidDataException e)
        {
            model.Dispose();
            throw new InvalidDataException($"BigGAN '{path}': {e.Message}", e);
        }
        return model;
    }

    /// <summary>
    /// Builds a BigGAN from a state dict in memory (tensors copied; the state dict stays the caller's). Without
    /// <paramref name="config"/>, the one stored in the state dict's metadata (<see cref="BigGanCheckpointLayout.ConfigMetadataKey"/>) is used.
    /// </summary>
    public static BigGanModel FromStateDict(StateDict stateDict, BigGanConfig? config = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        if (!BigGanCheckpointLayout.LooksLikeBigGan(stateDict.Keys.ToHashSet()))
            throw new CheckpointFormatException(path, stateDict.Format, BigGanCheckpointLayout.DescribeNotBigGan(stateDict.Keys));
        if (config is null)
        {
            if (!stateDict.Metadata.TryGetValue(BigGanCheckpointLayout.ConfigMetadataKey, out var stored))
                throw new CheckpointFormatException(path, stateDict.Format, "no BigGAN configuration given or stored in the metadata (the up-sampling flags are not recorded in the weights).");
            config = BigGanConfig.FromJson(stored, $"{path} metadata");
        }
        var model = new BigGanModel(config);
        try
        {
            BigGanWeights.Copy(stateDict, model, path);
            if (device is not null)
            {
                model.to(device);
                ModuleTensors.DetachFromDisposeScopes(model);
            }
            model.FoldSpectralNorms();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the state dict as safetensors under upstream's names (weight_orig / weight_u / weight_v kept, so it loads
    /// back, here or in PyTorch, exactly), with config.json in the safetensors metadata and beside the file: <c>config.json</c>
    /// in the same folder, or <paramref name="configPath"/> when given (<see cref="BigGanCheckpointLayout.ConfigPathBeside"/>:
    /// <c>&lt;stem&gt;.config.json</c>, which <see cref="Load"/> also finds).
    /// </summary>
    public void Save(string path, string? configPath = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var json = Config.ToJson();
        using var scope = NewDisposeScope();
        var tensors = state_dict().Select(kv => (kv.Key, kv.Value.detach().cpu().contiguous())).ToList();
        SafeTensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = "pt",
            [BigGanCheckpointLayout.ConfigMetadataKey] = json,
        });
        File.WriteAllText(configPath ?? Path.Combine(dir, "config.json"), json);
    }

    private static void CheckTruncation(double truncation)
    {
        // upstream: assert 0 < truncation <= 1.
        if (!(truncation > 0 && truncation <= 1))
            throw new ArgumentOutOfRangeException(nameof(truncation), $"truncation must be in (0, 1] (got {truncation}).");
    }
}
