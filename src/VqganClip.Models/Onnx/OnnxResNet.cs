using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Onnx;

/// <summary>Something that maps pictures to named feature maps with gradient (perceptual losses).</summary>
public interface IFeatureExtractor
{
    /// <summary>The feature maps [N,C,h,w] of RGB pictures <paramref name="rgb01"/> [N,3,H,W] in [0,1] at <paramref name="layers"/>, keyed as asked.</summary>
    Dictionary<string, Tensor> Features(Tensor rgb01, IReadOnlyCollection<string> layers);
}

/// <summary>A layer of <see cref="OnnxResNet"/> that can be asked for: a friendly name (<c>stage3.block1</c>) when it has one, the ONNX value, its channels.</summary>
public sealed record ResNetLayer(string Name, string Output, string Operator, long Channels);

/// <summary>
/// ML.NET's trained ImageNet ResNet18 (NuGet <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, MIT: a CNTK 2.6 ONNX
/// export, stages of 2, 2, 2 and 3 basic blocks, the classifier removed) run by <see cref="OnnxNetwork"/> with its
/// preprocessing: RGB [0,1] -> BGR 0..255 minus the per-channel mean of the package's <c>MeanImage</c> (the package's
/// own graph subtracts the 224x224 mean image, which ties it to one size; the per-channel mean works at any size).
/// Layers are asked for by the ONNX value name (<c>ReLU333_Output_0</c>) or by a friendly name found from the graph's
/// structure: <c>stem</c>, <c>stem.pool</c>, <c>stageS.blockB</c> (a block's output), <c>stageS.blockB.add</c>
/// (the same before its ReLU), <c>stageS.blockB.relu</c> (its inner ReLU) and <c>pooled</c>.
/// CNTK's asymmetric pads make the stages' shortcut additions need even sizes:
/// pictures must have sides that are multiples of 32 (<see cref="PadToMultiple"/>).
/// </summary>
public sealed class OnnxResNet : IFeatureExtractor, IDisposable
{
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    public const string PackageVersion = "0.24.0";
    public const int SideMultiple = 32;

    /// <summary>The per-channel means (B, G, R) of the package's MeanImage, for a model file without ResNetPreprocess.onnx beside it.</summary>
    public static IReadOnlyList<float> PackageMeanBgr { get; } = [103.062622f, 115.902885f, 123.151627f];

    private readonly Dictionary<string, string> _friendly = new(StringComparer.Ordinal);

    private OnnxResNet(OnnxNetwork network, Tensor meanBgr, string meanSource, long[]? inputShape, OnnxModelFile file)
    {
        Network = network;
        MeanBgr = meanBgr;
        MeanSource = meanSource;
        InputSize = inputShape is { Length: 4 } && inputShape[2] > 0 ? (int)inputShape[2] : 224;
        var layers = new List<ResNetLayer>();
        foreach (var (name, layer) in NameLayers(network))
        {
            long channels = file.DeclaredShape(layer.Output) is { Length: 4 } s ? s[1] : -1;
            layers.Add(new ResNetLayer(name ?? layer.Output, layer.Output, layer.Operator, channels));
            if (name is not null) _friendly[name] = layer.Output;
        }
        Layers = layers;
    }

    public OnnxNetwork Network { get; }

    /// <summary>[1,3,1,1] (B, G, R) subtracted after scaling to 0..255.</summary>
    public Tensor MeanBgr { get; }

    /// <summary>Where the mean came from (the preprocessing file, or the built-in package values).</summary>
    public string MeanSource { get; }

    /// <summary>The size the network was exported for (224).</summary>
    public int InputSize { get; }

    public string FilePath => Network.FilePath;

    /// <summary>Every node's value; those with a friendly name carry it (the others their ONNX name).</summary>
    public IReadOnlyList<ResNetLayer> Layers { get; }

    /// <summary>Friendly name to ONNX value name.</summary>
    public IReadOnlyDictionary<string, string> FriendlyNames => _friendly;

    /// <summary>Where <c>dotnet restore</c> puts the package's ResNet18.onnx: $NUGET_PACKAGES or ~/.nuget/packages.</summary>
    public static string PackageModelPath
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env
                ? env
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        }
    }

    /// <summary>The restored package's ResNet18.onnx, or one copied beside the program (DnnImageModels/ResNet18Onnx/); null when neither exists.</summary>
    public static string? FindDefaultModel()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        if (File.Exists(beside)) return beside;
        return File.Exists(PackageModelPath) ? PackageModelPath : null;
    }

    /// <summary><see cref="FindDefaultModel"/>, or an error that says how to get it.</summary>
    public static string RequireDefaultModel() => FindDefaultModel() ?? throw new FileNotFoundException(
        $"The default DeepDream network (NuGet {PackageId} {PackageVersion}, ResNet18.onnx) is not in {Path.GetDirectoryName(PackageModelPath)}. " +
        "Run `dotnet restore src/VqganClip.Tool` (the tool downloads the package), or pass --model FILE.onnx.", PackageModelPath);

    /// <summary>
    /// Loads <paramref name="path"/> (null: <see cref="RequireDefaultModel"/>). The mean comes from
    /// <c>ResNetPreprocess.onnx</c> where the package keeps it (../ResNetPrepOnnx/ beside the model), else from
    /// <see cref="PackageMeanBgr"/>.
    /// </summary>
    public static OnnxResNet Load(string? path = null)
    {
        path ??= RequireDefaultModel();
        var file = OnnxModelFile.Load(path);
        var network = new OnnxNetwork(file);
        network.eval();
        Tensor? mean = null;
        string source = "built-in (the package's MeanImage channel means)";
        var prep = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "..", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        if (File.Exists(prep))
        {
            using var image = OnnxModelFile.Load(prep).Initializer("MeanImage");
            if (image is { } m && m.dim() == 4 && m.shape[1] == 3)
            {
                mean = m.to(ScalarType.Float64).mean([2, 3], keepdim: true).to(ScalarType.Float32);
                source = Path.GetFullPath(prep);
            }
        }
        mean ??= tensor(PackageMeanBgr.ToArray()).reshape(1, 3, 1, 1);
        mean.DetachFromDisposeScope();   // lives as long as the network, whatever scope loads it
        return new OnnxResNet(network, mean, source, file.DeclaredShape(network.InputName), file);
    }

    /// <summary>RGB [N,3,H,W] in [0,1] -> the network's input: BGR, 0..255, minus the mean.</summary>
    public Tensor Preprocess(Tensor rgb01)
    {
        using var scope = NewDisposeScope();
        return (rgb01.flip(1) * 255 - MeanBgr.to(rgb01.device)).MoveToOuterDisposeScope();
    }

    /// <summary>The inverse of <see cref="Preprocess"/> (not clamped).</summary>
    public Tensor Deprocess(Tensor net)
    {
        using var scope = NewDisposeScope();
        return ((net + MeanBgr.to(net.device)) / 255).flip(1).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX value name of <paramref name="layer"/> (a friendly or an ONNX name); an error listing the friendly names otherwise.</summary>
    public string Resolve(string layer)
    {
        if (_friendly.TryGetValue(layer, out var output)) return output;
        if (Layers.Any(l => l.Output == layer)) return layer;
        throw new ArgumentException($"'{layer}' is no layer of {Path.GetFileName(FilePath)}; its named layers: {string.Join(", ", _friendly.Keys)} (or any ONNX value, see --list-layers).");
    }

    /// <summary>The channels of <paramref name="layer"/> (-1 when the file does not declare them).</summary>
    public long Channels(string layer)
    {
        string output = Resolve(layer);
        return Layers.First(l => l.Output == output).Channels;
    }

    /// <summary>Activations at <paramref name="layers"/> for a network input (<see cref="Preprocess"/>d, sides multiples of 32), keyed as asked.</summary>
    public Dictionary<string, Tensor> Activations(Tensor netInput, IReadOnlyCollection<string> layers)
    {
        if (netInput.dim() != 4 || netInput.shape[1] != 3)
            throw new ArgumentException($"ResNet18 takes [N,3,H,W] pictures; got [{string.Join(",", netInput.shape)}].");
        if (netInput.shape[2] % SideMultiple != 0 || netInput.shape[3] % SideMultiple != 0)
            throw new ArgumentException($"ResNet18 (a CNTK export with asymmetric pads) needs sides that are multiples of {SideMultiple}; got {netInput.shape[3]}x{netInput.shape[2]} (OnnxResNet.PadToMultiple pads a picture).");
        var resolved = layers.ToDictionary(l => l, Resolve);
        var values = Network.Run(netInput, resolved.Values.Distinct().ToList());
        var result = new Dictionary<string, Tensor>();
        foreach (var (asked, output) in resolved) result[asked] = values[output];
        return result;
    }

    /// <summary>Activations for RGB pictures in [0,1] (any size: padded by reflection to multiples of 32).</summary>
    public Dictionary<string, Tensor> Features(Tensor rgb01, IReadOnlyCollection<string> layers)
    {
        using var scope = NewDisposeScope();
        var result = Activations(PadToMultiple(Preprocess(rgb01)), layers);
        foreach (var t in result.Values) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>Pads [N,C,H,W] by reflection (replication where the picture is too small to reflect) so both sides are multiples of <paramref name="multiple"/>; differentiable.</summary>
    public static Tensor PadToMultiple(Tensor x, int multiple = SideMultiple)
    {
        long h = x.shape[2], w = x.shape[3];
        long ph = (multiple - h % multiple) % multiple, pw = (multiple - w % multiple) % multiple;
        if (ph == 0 && pw == 0) return x.alias();
        long top = ph / 2, left = pw / 2;
        var pad = new long[] { left, pw - left, top, ph - top };
        bool reflect = pw - left < w && ph - top < h;
        return F.pad(x, pad, reflect ? PaddingModes.Reflect : PaddingModes.Replicate);
    }

    /// <summary>
    /// Friendly names from the graph's structure: the first Relu is the stem, the first MaxPool the stem's pool; a
    /// Relu after an Add ends a basic block, a new stage when the Add's shortcut comes through a projection
    /// (a BatchNormalization), and that Add is its <c>.add</c>; the Relus inside a block are its <c>.relu</c>; the graph's output is <c>pooled</c>.
    /// </summary>
    private static IEnumerable<(string? Name, OnnxLayer Layer)> NameLayers(OnnxNetwork network)
    {
        var byOutput = network.Layers.ToDictionary(l => l.Output);
        var inputsOf = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var (layer, inputs) in network.Layers.Zip(NodeInputs(network))) inputsOf[layer.Output] = inputs;
        var names = new Dictionary<string, string>();
        bool stem = false, pool = false;
        int stage = 1, block = 0;
        var inner = new List<string>();
        foreach (var layer in network.Layers)
        {
            if (layer.Output == network.OutputName) { names[layer.Output] = "pooled"; continue; }
            if (layer.Operator == "MaxPool" && !pool) { names[layer.Output] = "stem.pool"; pool = true; continue; }
            if (layer.Operator != "Relu") continue;
            if (!stem) { names[layer.Output] = "stem"; stem = true; continue; }
            var input = inputsOf[layer.Output].FirstOrDefault();
            if (input is null || !byOutput.TryGetValue(input, out var producer) || producer.Operator != "Add") { inner.Add(layer.Output); continue; }
            bool projection = inputsOf[producer.Output].Any(i => byOutput.TryGetValue(i, out var p) && p.Operator == "BatchNormalization")
                && inputsOf[producer.Output].All(i => byOutput.TryGetValue(i, out var p) && p.Operator == "BatchNormalization");
            if (projection && block > 0) { stage++; block = 1; } else block++;
            string name = string.Create(CultureInfo.InvariantCulture, $"stage{stage}.block{block}");
            names[layer.Output] = name;
            names[producer.Output] = name + ".add";   // before the ReLU (Lucid's pre-ReLU choice)
            for (int i = 0; i < inner.Count; i++) names[inner[i]] = inner.Count == 1 ? name + ".relu" : string.Create(CultureInfo.InvariantCulture, $"{name}.relu{i + 1}");
            inner.Clear();
        }
        foreach (var layer in network.Layers) yield return (names.GetValueOrDefault(layer.Output), layer);
    }

    private static IEnumerable<IReadOnlyList<string>> NodeInputs(OnnxNetwork network) => network.NodeInputs;

    public void Dispose()
    {
        Network.Dispose();
        MeanBgr.Dispose();
    }
}
