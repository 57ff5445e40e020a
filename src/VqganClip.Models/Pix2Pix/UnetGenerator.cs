using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.BigGan;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// upstream's <c>UnetGenerator</c> (models/networks.py): <c>model</c> = the outermost
/// <see cref="UnetSkipConnectionBlock"/>, so the state-dict keys are upstream's (<c>model.model.0.weight</c>, ...) and
/// a published <c>latest_net_G.pth</c> loads one to one. Maps images in [-1, 1] (side a multiple of 2^num_downs) to
/// images in [-1, 1]. Built or loaded, the network is frozen (no parameter requires grad) and in eval mode; a trainer
/// sets requires_grad and calls train(). <see cref="Generate"/> offers both of upstream's test-time behaviours.
/// </summary>
public sealed class UnetGenerator : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly UnetSkipConnectionBlock model;
#pragma warning restore IDE1006

    /// <summary>Builds the network for <paramref name="config"/> with upstream's init_weights (normal 0.02, global generator), frozen, in eval mode.</summary>
    public UnetGenerator(UnetConfig config) : base(nameof(UnetGenerator))
    {
        ArgumentNullException.ThrowIfNull(config);
        TorchRuntime.EnsureInitialized();
        config.Validate();
        Config = config;
        model = new UnetSkipConnectionBlock(config, 0);
        register_module("model", model);
        ModuleTensors.DetachFromDisposeScopes(this);
        Pix2PixInit.InitWeights(this);
        foreach (var parameter in parameters()) parameter.requires_grad = false;
        eval();
    }

    public UnetConfig Config { get; }

    /// <summary>The image side the network was trained at when known (the toolkit's exports store it; upstream's .pth files do not).</summary>
    public int? ImageSize { get; set; }

    /// <summary>The blocks from the outermost in.</summary>
    public IEnumerable<UnetSkipConnectionBlock> Blocks()
    {
        for (var block = model; block is not null; block = block.Inner) yield return block;
    }

    /// <summary>The dropout layers' probability in training mode (upstream 0.5; the fixture's training-mode reference uses 0).</summary>
    public double DropoutProbability
    {
        get => Blocks().Select(b => b.Dropout?.P).FirstOrDefault(p => p is not null) ?? 0.0;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 0.0);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(value, 1.0);
            foreach (var block in Blocks()) if (block.Dropout is { } dropout) dropout.P = value;
        }
    }

    public override Tensor forward(Tensor x)
    {
        CheckInput(x);
        return model.forward(x);
    }

    /// <summary>
    /// The generator's output without gradients, in the mode asked for, leaving the network as it was:
    /// <paramref name="trainMode"/> false = upstream's <c>test.py --eval</c> (running statistics, no dropout);
    /// true = upstream's default test time (the net stays in training mode: each batch norm normalises with the
    /// batch's own statistics, dropout is active — the paper's noise source). The running statistics a
    /// training-mode forward would update are restored afterwards.
    /// </summary>
    public Tensor Generate(Tensor a, bool trainMode = false)
    {
        CheckInput(a);
        bool wasTraining = training;
        var buffers = trainMode ? this.buffers().Select(b => (b, b.clone())).ToList() : [];
        try
        {
            using var _ = no_grad();
            if (trainMode) train(); else eval();
            return model.forward(a);
        }
        finally
        {
            using (no_grad())
                foreach (var (buffer, saved) in buffers)
                {
                    buffer.copy_(saved);
                    saved.Dispose();
                }
            if (wasTraining) train(); else eval();
        }
    }

    private void CheckInput(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 4 || x.shape[1] != Config.InputNc)
            throw new ArgumentException($"The U-Net expects images [batch, {Config.InputNc}, H, W], got [{string.Join(", ", x.shape)}].", nameof(x));
        int m = Config.SideMultiple;
        if (x.shape[2] % m != 0 || x.shape[3] % m != 0)
            throw new ArgumentException($"The U-Net with num_downs {Config.NumDowns} needs sides that are multiples of {m}, got {x.shape[3]}×{x.shape[2]}.", nameof(x));
    }

    /// <summary>
    /// Loads a generator: upstream's <c>latest_net_G.pth</c> (a plain state dict, legacy pickle or zip torch.save),
    /// a file holding several nets under a prefix (<paramref name="prefix"/>, or found: <c>G.</c>, <c>netG.</c>,
    /// <c>module.</c>), or <c>.safetensors</c>. Configuration: <paramref name="config"/>, else the one <see cref="Save"/>
    /// stores in safetensors metadata, else inferred from the tensors (<see cref="Pix2PixCheckpointLayout.InferConfig"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="CheckpointFormatException">Unreadable, not a U-Net generator (the message names what is missing), or tensors that disagree with the configuration.</exception>
    public static UnetGenerator Load(string path, UnetConfig? config = null, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        TorchRuntime.EnsureInitialized();
        if (!File.Exists(path)) throw new FileNotFoundException($"pix2pix generator '{path}' does not exist.", path);
        var info = Checkpoint.Inspect(path);
        var names = info.Tensors.Select(t => t.Name).ToList();
        prefix ??= Pix2PixCheckpointLayout.FindPrefix(names)
            ?? throw new CheckpointFormatException(path, info.Format, Pix2PixCheckpointLayout.DescribeNotGenerator(names));
        if (config is null && info.Metadata.TryGetValue(Pix2PixCheckpointLayout.ConfigMetadataKey, out var stored))
            config = UnetConfig.FromJson(System.Text.Json.Nodes.JsonNode.Parse(stored)!, $"{path} metadata");
        var shapes = info.Tensors.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Name[prefix.Length..], t => t.Shape.ToArray());
        config ??= Pix2PixCheckpointLayout.InferConfig(shapes, path);

        using var stateDict = Checkpoint.Load(path, n => n.StartsWith(prefix, StringComparison.Ordinal));
        var model = new UnetGenerator(config);
        try
        {
            Pix2PixWeights.Copy(n => stateDict.TryGetValue(prefix + n, out var t) ? t : null, shapes.Keys, model, path,
                info.Format, $"the {config.Name} (ngf {config.Ngf}, {config.Norm.Name()} norm) U-Net", config.Norm == Pix2PixNorm.Instance);
            if (info.Metadata.TryGetValue(Pix2PixCheckpointLayout.ImageSizeMetadataKey, out var side) && int.TryParse(side, out var n) && n > 0)
                model.ImageSize = n;
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Writes the state dict as safetensors under upstream's names, with the configuration (and <see cref="ImageSize"/> when set) in the metadata.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var scope = NewDisposeScope();
        var tensors = state_dict().Select(kv => (kv.Key, kv.Value.detach().cpu().contiguous())).ToList();
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [Pix2PixCheckpointLayout.ConfigMetadataKey] = Config.ToJson().ToJsonString(),
        };
        if (ImageSize is int side) metadata[Pix2PixCheckpointLayout.ImageSizeMetadataKey] = side.ToString(System.Globalization.CultureInfo.InvariantCulture);
        SafeTensors.Write(path, tensors, metadata);
    }
}
