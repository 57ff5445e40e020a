using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.StyleGan2;

/// <summary>
/// rosinality/stylegan2-pytorch's <c>Discriminator</c> (model.py), training only, with his state-dict names:
/// <c>convs.0</c> (ConvLayer 3 → C(size), 1×1), <c>convs.1..</c> (ResBlock per resolution, size → 8, down to 4×4),
/// the minibatch standard deviation (stddev_group 4, stddev_feat 1), <c>final_conv</c> (ConvLayer C(4)+1 → C(4), 3×3)
/// and <c>final_linear.0</c> (EqualLinear C(4)·16 → C(4), fused leaky ReLU), <c>final_linear.1</c> (EqualLinear C(4) → 1).
/// Upstream's <c>channels</c> dict is fixed at 512 up to 32 px; here the widths are <paramref name="channels"/>
/// (index log2(res) − 2, as <see cref="StyleGan2Config.Channels"/>). Parameters require grad.
/// </summary>
public sealed class StyleGan2Discriminator : nn.Module<Tensor, Tensor>
{
    public const int StddevGroup = 4;
    public const int StddevFeat = 1;

#pragma warning disable IDE1006
    private readonly ModuleList<nn.Module<Tensor, Tensor>> convs;
    private readonly ConvLayer final_conv;
    private readonly Sequential final_linear;
#pragma warning restore IDE1006
    private readonly EqualLinear _featureLinear;
    private readonly EqualLinear _outputLinear;

    public StyleGan2Discriminator(int size, IReadOnlyList<int> channels, IReadOnlyList<int>? blurKernel = null) : base("Discriminator")
    {
        blurKernel ??= [1, 3, 3, 1];
        int logSize = (int)Math.Round(Math.Log2(size));
        if (size < 8 || 1 << logSize != size) throw new ArgumentException($"discriminator size must be a power of two of at least 8 (got {size}).");
        if (channels.Count != logSize - 1) throw new ArgumentException($"a {size}-px discriminator needs {logSize - 1} channel counts (4..{size} px), got {channels.Count}.");
        Size = size;
        Channels = channels.ToArray();
        int At(int res) => channels[(int)Math.Round(Math.Log2(res)) - 2];

        convs = new ModuleList<nn.Module<Tensor, Tensor>> { new ConvLayer(3, At(size), 1, blurKernel) };
        int inChannel = At(size);
        for (int i = logSize; i > 2; i--)
        {
            int outChannel = At(1 << (i - 1));
            convs.Add(new ResBlock(inChannel, outChannel, blurKernel));
            inChannel = outChannel;
        }
        final_conv = new ConvLayer(inChannel + 1, At(4), 3, blurKernel);
        _featureLinear = new EqualLinear(At(4) * 4 * 4, At(4), fusedLeakyRelu: true);
        _outputLinear = new EqualLinear(At(4), 1);
        final_linear = nn.Sequential(("0", (nn.Module<Tensor, Tensor>)_featureLinear), ("1", _outputLinear));
        register_module("convs", convs);
        register_module("final_conv", final_conv);
        register_module("final_linear", final_linear);
        foreach (var p in parameters()) p.requires_grad = true;
    }

    public int Size { get; }

    public IReadOnlyList<int> Channels { get; }

    /// <summary>The width of <see cref="Features"/> (the 4×4 stage's channels).</summary>
    public int FeatureDim => Channels[0];

    /// <summary>images [B, 3, size, size] → logits [B, 1]. B must be a multiple of min(B, 4) (upstream's view).</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return _outputLinear.forward(Features(input)).MoveToOuterDisposeScope();
    }

    /// <summary><c>final_linear.1</c>: <see cref="Features"/> [B, C] → logits [B, 1].</summary>
    public Tensor Logit(Tensor features) => _outputLinear.forward(features);

    /// <summary>
    /// Everything up to <c>final_linear.0</c> (its activated output, [B, <see cref="FeatureDim"/>]): the features
    /// whose last linear map is the logit, and which a projection discriminator also dots with a class embedding.
    /// </summary>
    public Tensor Features(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = input;
        foreach (var layer in convs) output = layer.forward(output);
        long batch = output.shape[0], channel = output.shape[1], height = output.shape[2], width = output.shape[3];
        long group = Math.Min(batch, StddevGroup);
        if (batch % group != 0) throw new ArgumentException($"the minibatch standard deviation needs a batch divisible by {group} (got {batch}).");
        var stddev = output.view(group, -1, StddevFeat, channel / StddevFeat, height, width);
        stddev = sqrt(stddev.var(0, unbiased: false) + 1e-8);
        stddev = stddev.mean([2, 3, 4], keepdim: true).squeeze(2);
        stddev = stddev.repeat(group, 1, height, width);
        output = cat([output, stddev], 1);
        output = final_conv.forward(output);
        output = output.view(batch, -1);
        return _featureLinear.forward(output).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// rosinality's <c>EqualConv2d</c>: <c>weight</c> [out, in, k, k] ~ N(0, 1) used as weight / √(in·k²), optional
    /// <c>bias</c> [out] (zeros).
    /// </summary>
    public sealed class EqualConv2d : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006
        private readonly Parameter weight;
        private readonly Parameter? bias;
#pragma warning restore IDE1006

        public EqualConv2d(int inChannel, int outChannel, int kernelSize, int stride, int padding, bool bias) : base(nameof(EqualConv2d))
        {
            weight = new Parameter(randn(outChannel, inChannel, kernelSize, kernelSize));
            register_parameter("weight", weight);
            if (bias)
            {
                this.bias = new Parameter(zeros(outChannel));
                register_parameter("bias", this.bias);
            }
            Scale = 1.0 / Math.Sqrt(inChannel * kernelSize * kernelSize);
            Stride = stride;
            Padding = padding;
        }

        public double Scale { get; }
        public int Stride { get; }
        public int Padding { get; }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            // final_conv takes the channels plus minibatch-stddev's one (17, 513, ...): see NarrowConvolution.
            return NarrowConvolution.Forward(input, weight * Scale, bias, [Stride, Stride], [Padding, Padding], [1, 1], 1).MoveToOuterDisposeScope();
        }
    }

    /// <summary>
    /// rosinality's <c>ConvLayer</c> (an nn.Sequential, hence the names <c>0</c>, <c>1</c>, <c>2</c>): when down-sampling,
    /// <c>Blur</c> (pad ((p+1)//2, p//2), p = len(blur) − 2 + k − 1) then a stride-2 EqualConv2d without padding; else
    /// EqualConv2d with padding k//2; then FusedLeakyReLU (its own bias; the conv has none) when activated.
    /// </summary>
    public sealed class ConvLayer : nn.Module<Tensor, Tensor>
    {
        private readonly List<Func<Tensor, Tensor>> _layers = [];

        public ConvLayer(int inChannel, int outChannel, int kernelSize, IReadOnlyList<int> blurKernel, bool downsample = false, bool bias = true, bool activate = true)
            : base(nameof(ConvLayer))
        {
            int index = 0;
            int stride = 1, padding = kernelSize / 2;
            if (downsample)
            {
                const int factor = 2;
                int p = blurKernel.Count - factor + (kernelSize - 1);
                var blur = new Blur(blurKernel, ((p + 1) / 2, p / 2));
                register_module((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), blur);
                _layers.Add(blur.forward);
                stride = 2;
                padding = 0;
            }
            var conv = new EqualConv2d(inChannel, outChannel, kernelSize, stride, padding, bias && !activate);
            register_module((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), conv);
            _layers.Add(conv.forward);
            if (activate)
            {
                var act = new FusedLeakyReluLayer(outChannel);
                register_module((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), act);
                _layers.Add(act.Forward);
            }
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = input;
            foreach (var layer in _layers) x = layer(x);
            return x.MoveToOuterDisposeScope();
        }
    }

    /// <summary>rosinality's <c>ResBlock</c>: conv1 (3×3), conv2 (3×3, down), skip (1×1, down, no bias or activation); (out + skip)/√2.</summary>
    public sealed class ResBlock : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006
        private readonly ConvLayer conv1;
        private readonly ConvLayer conv2;
        private readonly ConvLayer skip;
#pragma warning restore IDE1006

        public ResBlock(int inChannel, int outChannel, IReadOnlyList<int> blurKernel) : base(nameof(ResBlock))
        {
            conv1 = new ConvLayer(inChannel, inChannel, 3, blurKernel);
            conv2 = new ConvLayer(inChannel, outChannel, 3, blurKernel, downsample: true);
            skip = new ConvLayer(inChannel, outChannel, 1, blurKernel, downsample: true, bias: false, activate: false);
            register_module("conv1", conv1);
            register_module("conv2", conv2);
            register_module("skip", skip);
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var output = conv2.forward(conv1.forward(input));
            return ((output + skip.forward(input)) / Math.Sqrt(2)).MoveToOuterDisposeScope();
        }
    }
}
