using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.StyleGan2;

public sealed partial class StyleGan2Model
{
    private Tensor? _latentAvg;

    /// <summary>
    /// The mean latent stored beside g_ema (convert_weight.py's <c>latent_avg</c>, [style_dim]), or null when the file
    /// had none. StyleCLIP itself recomputes <see cref="MeanLatent(int, Generator?)"/>; this is what the file says.
    /// </summary>
    public Tensor? LatentAvg
    {
        get => _latentAvg;
        set
        {
            if (value is not null && (value.dim() != 1 || value.shape[0] != StyleDim))
                throw new ArgumentException($"latent_avg must be [{StyleDim}], got [{string.Join(", ", value.shape)}].", nameof(value));
            _latentAvg?.Dispose();
            _latentAvg = value?.detach().to(Device).clone().DetachFromDisposeScope();
        }
    }

    /// <summary>
    /// Loads a rosinality generator: the published <c>stylegan2-*-config-f.pt</c> (torch zip or legacy pickle,
    /// <c>{"g_ema", "latent_avg"}</c> with or without <c>"g"</c>, <c>"d"</c>, which are never read), or safetensors
    /// (a bare g_ema state dict, maybe with <c>latent_avg</c> and the toolkit's stored configuration). The size,
    /// style dimension, n_mlp and channels come from the weights (<see cref="StyleGan2Config.InferFromStateDict"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file.</exception>
    /// <exception cref="CheckpointFormatException">Unreadable, not a rosinality generator (NVIDIA's pickles named as
    /// such), or tensors that disagree with the configuration (the message names the tensor).</exception>
    public static StyleGan2Model Load(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        TorchRuntime.EnsureInitialized();
        if (!File.Exists(path)) throw new FileNotFoundException($"StyleGAN2 weights '{path}' do not exist.", path);
        if (StyleGan2CheckpointLayout.DescribeNvidiaPickle(path) is { } nvidia)
            throw CheckpointFormatException.ForWholeFile(path, "NVIDIA StyleGAN pickle", nvidia);

        var info = Checkpoint.Inspect(path);
        var names = info.Tensors.Select(t => t.Name).ToList();
        var prefix = StyleGan2CheckpointLayout.FindPrefix(names.ToHashSet())
            ?? throw new CheckpointFormatException(path, info.Format, StyleGan2CheckpointLayout.DescribeNotStyleGan2(names));
        using var stateDict = Checkpoint.Load(path, name => name.StartsWith(prefix, StringComparison.Ordinal) || name == StyleGan2CheckpointLayout.LatentAvgName);
        return FromStateDict(stateDict, prefix, device);
    }

    /// <summary>
    /// Builds a generator from a state dict in memory (tensors copied; the state dict stays the caller's): names under
    /// <paramref name="prefix"/> ("" or "g_ema."), an optional <c>latent_avg</c>; the configuration stored in the
    /// metadata when there is one, else inferred from the shapes.
    /// </summary>
    public static StyleGan2Model FromStateDict(StateDict stateDict, string? prefix = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        prefix ??= StyleGan2CheckpointLayout.FindPrefix(stateDict.Keys.ToHashSet())
            ?? throw new CheckpointFormatException(path, stateDict.Format, StyleGan2CheckpointLayout.DescribeNotStyleGan2(stateDict.Keys.ToList()));
        var config = stateDict.Metadata.TryGetValue(StyleGan2CheckpointLayout.ConfigMetadataKey, out var stored)
            ? StyleGan2Config.FromJson(stored, $"{path} metadata")
            : StyleGan2Config.InferFromStateDict(stateDict, prefix);
        var model = new StyleGan2Model(config);
        try
        {
            StyleGan2Weights.Copy(stateDict, prefix, model, path);
            if (stateDict.TryGetValue(StyleGan2CheckpointLayout.LatentAvgName, out var latentAvg))
            {
                if (latentAvg.dim() != 1 || latentAvg.shape[0] != config.StyleDim)
                    throw new CheckpointFormatException(path, "StyleGAN2", $"tensor 'latent_avg' has shape [{string.Join(", ", latentAvg.shape)}]; expected [{config.StyleDim}] (style_dim).");
                model.LatentAvg = latentAvg.to(ScalarType.Float32);
            }
            if (device is not null)
            {
                model.to(device);
                model.DetachFromDisposeScopes();
                if (model._latentAvg is { } avg) model.LatentAvg = avg;
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the generator as safetensors: upstream's g_ema names (bare), <c>latent_avg</c> when known, and the
    /// configuration in the metadata (lr_mlp is not in the weights).
    /// </summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var scope = NewDisposeScope();
        var tensors = state_dict().Select(kv => (kv.Key, kv.Value.detach().cpu().contiguous())).ToList();
        if (_latentAvg is not null) tensors.Add((StyleGan2CheckpointLayout.LatentAvgName, _latentAvg.detach().cpu().contiguous()));
        SafeTensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = "pt",
            [StyleGan2CheckpointLayout.ConfigMetadataKey] = Config.ToJson(),
        });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _latentAvg?.Dispose(); _latentAvg = null; }
        base.Dispose(disposing);
    }
}
