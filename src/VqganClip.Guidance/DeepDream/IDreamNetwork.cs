using VqganClip.Models.Clip;
using VqganClip.Models.Onnx;
using static TorchSharp.torch;

namespace VqganClip.Guidance.DeepDream;

/// <summary>A network <see cref="DeepDreamer"/> can dream on: its preprocessing, and its layers by name.</summary>
public interface IDreamNetwork
{
    /// <summary>"ResNet18.onnx (CNTK 2.6)", "CLIP ModifiedResNet".</summary>
    string Description { get; }

    /// <summary>The layer a dream uses when none is named.</summary>
    string DefaultLayer { get; }

    /// <summary>Layer names, friendly first.</summary>
    IReadOnlyList<string> LayerNames { get; }

    /// <summary>RGB [N,3,H,W] in [0,1] -> the network's input units (an affine map per channel).</summary>
    Tensor Preprocess(Tensor rgb01);

    /// <summary>The inverse of <see cref="Preprocess"/>.</summary>
    Tensor Deprocess(Tensor net);

    /// <summary>The layer's name as the network knows it; an error naming the layers there are otherwise.</summary>
    string Resolve(string layer);

    /// <summary>The layer's channels (-1 when unknown).</summary>
    long Channels(string layer);

    /// <summary>The activations [N,C,h,w] at a resolved layer for a network-space picture of any size, with autograd.</summary>
    Tensor Activation(Tensor net, string layer);
}

/// <summary>ML.NET's ResNet18 (<see cref="OnnxResNet"/>): input BGR 0..255 minus the mean; sides padded by reflection to multiples of 32.</summary>
public sealed class ResNet18DreamNetwork(OnnxResNet network) : IDreamNetwork
{
    public OnnxResNet Network { get; } = network ?? throw new ArgumentNullException(nameof(network));
    public string Description => $"{Path.GetFileName(Network.FilePath)} ({Network.Network.Producer})";
    public string DefaultLayer => "stage3.block1";
    public IReadOnlyList<string> LayerNames => Network.FriendlyNames.Keys.Concat(Network.Layers.Select(l => l.Output)).ToList();
    public Tensor Preprocess(Tensor rgb01) => Network.Preprocess(rgb01);
    public Tensor Deprocess(Tensor net) => Network.Deprocess(net);
    public string Resolve(string layer) => Network.Resolve(layer);
    public long Channels(string layer) => Network.Channels(layer);

    public Tensor Activation(Tensor net, string layer)
    {
        using var scope = NewDisposeScope();
        return Network.Activations(OnnxResNet.PadToMultiple(net), [layer])[layer].MoveToOuterDisposeScope();
    }
}

/// <summary>
/// CLIP's own image tower when it is a ResNet (RN50, RN101, RN50x4, ...: <see cref="ModifiedResNet"/>): input
/// normalised by CLIP's mean and std; layers <c>stem</c>, <c>stem.pool</c>, <c>layerS.B</c>, <c>layerS</c>. OpenAI's
/// multimodal-neuron pictures were made on such a tower.
/// </summary>
public sealed class ClipResNetDreamNetwork : IDreamNetwork
{
    private readonly Dictionary<string, long> _channels = new();

    public ClipResNetDreamNetwork(ModifiedResNet visual) => Visual = visual ?? throw new ArgumentNullException(nameof(visual));

    /// <summary>The tower of a loaded CLIP; a ViT CLIP is refused (it has no convolutional layers to dream on).</summary>
    public static ClipResNetDreamNetwork From(ClipModel clip, string path) => clip.visual is ModifiedResNet resnet
        ? new ClipResNetDreamNetwork(resnet)
        : throw new ArgumentException($"'{path}' is a ViT CLIP; DeepDream here needs a ResNet CLIP (RN50, RN101, RN50x4, ...) or the default ResNet18.");

    public ModifiedResNet Visual { get; }
    public string Description => "CLIP ModifiedResNet";
    public string DefaultLayer => "layer3";
    public IReadOnlyList<string> LayerNames => Visual.LayerNames;
    public Tensor Preprocess(Tensor rgb01) => ClipModel.Normalize01(rgb01);

    public Tensor Deprocess(Tensor net)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(ClipModel.PixelMean, device: net.device).reshape(1, 3, 1, 1);
        var std = tensor(ClipModel.PixelStd, device: net.device).reshape(1, 3, 1, 1);
        return (net * std + mean).MoveToOuterDisposeScope();
    }

    public string Resolve(string layer) => Visual.LayerNames.Contains(layer) ? layer
        : throw new ArgumentException($"'{layer}' is no layer of this CLIP ResNet; its layers: {string.Join(", ", Visual.LayerNames)}.");

    public long Channels(string layer)
    {
        layer = Resolve(layer);
        if (_channels.TryGetValue(layer, out long c)) return c;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        c = Visual.Activations(zeros(1, 3, 64, 64), [layer])[layer].shape[1];
        _channels[layer] = c;
        return c;
    }

    public Tensor Activation(Tensor net, string layer)
    {
        using var scope = NewDisposeScope();
        return Visual.Activations(net, [layer])[layer].MoveToOuterDisposeScope();
    }
}
