using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Clip;

/// <summary>
/// The reference's ModifiedResNet: a 3-convolution stem (3x3 stride 2, 3x3, 3x3; each BN + ReLU) followed by
/// AvgPool2d(2) instead of a max pool, four stages of anti-aliased <see cref="Bottleneck"/>s
/// (widths w, 2w, 4w, 8w; stride 2 from layer2 on) and an <see cref="AttentionPool2d"/> over the
/// (resolution/32)² grid with width*32 channels.
/// </summary>
public sealed class ModifiedResNet : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // reference parameter names
    public readonly Conv2d conv1;
    public readonly BatchNorm2d bn1;
    public readonly Conv2d conv2;
    public readonly BatchNorm2d bn2;
    public readonly Conv2d conv3;
    public readonly BatchNorm2d bn3;
    public readonly AvgPool2d avgpool;
    public readonly Sequential layer1;
    public readonly Sequential layer2;
    public readonly Sequential layer3;
    public readonly Sequential layer4;
    public readonly AttentionPool2d attnpool;
#pragma warning restore IDE1006

    private int _inplanes; // mutable during construction, as in the reference's _make_layer

    public ModifiedResNet(IReadOnlyList<int> layers, int outputDim, int heads, int inputResolution = 224, int width = 64)
        : base(nameof(ModifiedResNet))
    {
        if (layers.Count != 4) throw new ArgumentException($"ModifiedResNet needs 4 stage block counts, got {layers.Count}.", nameof(layers));
        OutputDim = outputDim;
        InputResolution = inputResolution;

        conv1 = nn.Conv2d(3, width / 2, kernel_size: 3, stride: 2, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(width / 2);
        conv2 = nn.Conv2d(width / 2, width / 2, kernel_size: 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(width / 2);
        conv3 = nn.Conv2d(width / 2, width, kernel_size: 3, padding: 1, bias: false);
        bn3 = nn.BatchNorm2d(width);
        avgpool = nn.AvgPool2d(2);

        _inplanes = width;
        layer1 = MakeLayer(width, layers[0]);
        layer2 = MakeLayer(width * 2, layers[1], stride: 2);
        layer3 = MakeLayer(width * 4, layers[2], stride: 2);
        layer4 = MakeLayer(width * 8, layers[3], stride: 2);

        int embedDim = width * 32; // the ResNet feature dimension
        attnpool = new AttentionPool2d(inputResolution / 32, embedDim, heads, outputDim);
        RegisterComponents();
    }

    public int OutputDim { get; }
    public int InputResolution { get; }

    private Sequential MakeLayer(int planes, int blocks, int stride = 1)
    {
        var modules = new List<nn.Module<Tensor, Tensor>> { new Bottleneck(_inplanes, planes, stride) };
        _inplanes = planes * Bottleneck.Expansion;
        for (int i = 1; i < blocks; i++)
            modules.Add(new Bottleneck(_inplanes, planes));
        return nn.Sequential(modules);
    }

    /// <summary>
    /// The intermediate values <see cref="Activations"/> can return, in order: <c>stem</c> (after the third
    /// convolution's ReLU), <c>stem.pool</c>, each Bottleneck's output <c>layerS.B</c> (B from 0, as the state dict's
    /// names) and each stage's output <c>layerS</c> (its last block's).
    /// </summary>
    public IReadOnlyList<string> LayerNames
    {
        get
        {
            var names = new List<string> { "stem", "stem.pool" };
            var stages = new[] { layer1, layer2, layer3, layer4 };
            for (int s = 0; s < 4; s++)
            {
                int blocks = stages[s].children().Count();
                for (int b = 0; b < blocks; b++) names.Add(FormattableString.Invariant($"layer{s + 1}.{b}"));
                names.Add(FormattableString.Invariant($"layer{s + 1}"));
            }
            return names;
        }
    }

    /// <summary>
    /// The values at <paramref name="layers"/> (see <see cref="LayerNames"/>) for normalised pictures [N,3,H,W], with
    /// autograd when it is on; runs only as far as the last one asked for (DeepDream on CLIP's image tower).
    /// </summary>
    public Dictionary<string, Tensor> Activations(Tensor x, IReadOnlyCollection<string> layers)
    {
        var order = LayerNames;
        int last = -1;
        foreach (var l in layers)
        {
            int at = order.ToList().IndexOf(l);
            if (at < 0) throw new ArgumentException($"'{l}' is no layer of this CLIP ResNet; its layers: {string.Join(", ", order)}.");
            last = Math.Max(last, at);
        }
        using var scope = torch.NewDisposeScope();
        var values = new Dictionary<string, Tensor>();
        void Keep(string name, Tensor value) { if (layers.Contains(name)) values[name] = value; }
        int done = 0;
        bool More() => done <= last;
        x = x.to(conv1.weight!.dtype);
        x = F.relu(bn1.forward(NarrowConvolution.Forward(conv1, x)));
        x = F.relu(bn2.forward(NarrowConvolution.Forward(conv2, x)));
        x = F.relu(bn3.forward(NarrowConvolution.Forward(conv3, x)));
        Keep("stem", x); done++;
        if (More()) { x = avgpool.forward(x); Keep("stem.pool", x); done++; }
        var stages = new[] { layer1, layer2, layer3, layer4 };
        for (int s = 0; s < 4 && More(); s++)
        {
            int b = 0;
            foreach (var block in stages[s].children())
            {
                if (!More()) break;
                x = ((nn.Module<Tensor, Tensor>)block).forward(x);
                Keep(FormattableString.Invariant($"layer{s + 1}.{b}"), x);
                done++;
                b++;
            }
            if (More()) { Keep(FormattableString.Invariant($"layer{s + 1}"), x); done++; }
        }
        foreach (var v in values.Values) v.MoveToOuterDisposeScope();
        return values;
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        x = x.to(conv1.weight!.dtype);
        // NarrowConvolution: a tiny model's stem has fewer than 16 channels, whose native backward is racy.
        x = F.relu(bn1.forward(NarrowConvolution.Forward(conv1, x)));
        x = F.relu(bn2.forward(NarrowConvolution.Forward(conv2, x)));
        x = F.relu(bn3.forward(NarrowConvolution.Forward(conv3, x)));
        x = avgpool.forward(x);
        x = layer1.forward(x);
        x = layer2.forward(x);
        x = layer3.forward(x);
        x = layer4.forward(x);
        x = attnpool.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}
