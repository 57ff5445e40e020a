using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.BigGan;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.BigGan;

/// <summary>
/// BigGAN-PyTorch's <c>SNEmbedding</c> (layers.py): an embedding table [num_classes, C] under spectral norm (the
/// table itself is the matrix whose top singular value is divided out), one power iteration per training forward.
/// Built on the generator's <see cref="SpectralNormLayer"/>: weight_orig [num_classes, C], looked up by class id.
/// </summary>
public sealed class SNEmbedding : SpectralNormLayer
{
    public SNEmbedding(long numClasses, long dim, double eps)
        : base(nameof(SNEmbedding), [numClasses, dim], hasBias: false, eps)
    {
    }

    /// <summary>x: class ids [B] (int64) → rows [B, C].</summary>
    protected override Tensor Apply(Tensor x, Tensor weight) => weight.index_select(0, x);
}

/// <summary>
/// BigGAN-deep's <c>DBlock</c> (BigGANdeep.py): relu → conv1 1×1 (in → out/4) → relu → conv2 3×3 → relu → conv3 3×3 →
/// relu → [avg-pool 2] → conv4 1×1 (→ out); shortcut: [avg-pool 2], then, when in ≠ out, cat(x, conv_sc(x)) with
/// conv_sc 1×1 in → out − in. Every conv spectral-normed.
/// </summary>
public sealed class DBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly SNConv2d conv1, conv2, conv3, conv4;
    private readonly SNConv2d? conv_sc;
#pragma warning restore IDE1006
    private readonly bool _downsample;

    public DBlock(long inChannels, long outChannels, bool downsample, double eps, int channelRatio = 4) : base(nameof(DBlock))
    {
        long hidden = outChannels / channelRatio;
        _downsample = downsample;
        conv1 = new SNConv2d(inChannels, hidden, 1, 0, hasBias: true, eps);
        conv2 = new SNConv2d(hidden, hidden, 3, 1, hasBias: true, eps);
        conv3 = new SNConv2d(hidden, hidden, 3, 1, hasBias: true, eps);
        conv4 = new SNConv2d(hidden, outChannels, 1, 0, hasBias: true, eps);
        register_module("conv1", conv1);
        register_module("conv2", conv2);
        register_module("conv3", conv3);
        register_module("conv4", conv4);
        if (inChannels != outChannels)
        {
            if (outChannels < inChannels) throw new ArgumentException($"DBlock {inChannels} -> {outChannels}: the learnable shortcut concatenates channels, so out must not be less than in.");
            conv_sc = new SNConv2d(inChannels, outChannels - inChannels, 1, 0, hasBias: true, eps);
            register_module("conv_sc", conv_sc);
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(x.relu());
        h = conv2.forward(h.relu());
        h = conv3.forward(h.relu());
        h = h.relu();
        if (_downsample) h = F.avg_pool2d(h, 2);
        h = conv4.forward(h);
        var sc = _downsample ? F.avg_pool2d(x, 2) : x;
        if (conv_sc is not null) sc = cat([sc, conv_sc.forward(sc)], 1);
        return (h + sc).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// BigGAN-deep's projection discriminator (BigGAN-PyTorch BigGANdeep.py <c>Discriminator</c>, D_arch[64] without its
/// attention layer): input_conv 3×3 (3 → ch), stages with in [1, 2, 4, 8]·ch and out [2, 4, 8, 16]·ch, each of
/// <c>depth</c> DBlocks (the first down-sampling), relu, global sum pooling, out = linear(h) + Σ embed(y)·h
/// (SN linear to 1, SN embedding of the class). Images [B, 3, 64, 64] in [-1, 1], class ids [B] → logits [B].
/// </summary>
public sealed class BigGanDiscriminator : nn.Module, IConditionalDiscriminator
{
#pragma warning disable IDE1006
    private readonly SNConv2d input_conv;
    private readonly ModuleList<DBlock> blocks;
    private readonly SNLinear linear;
    private readonly SNEmbedding embed;
#pragma warning restore IDE1006

    public BigGanDiscriminator(int channels, int depth, int numClasses, double eps) : base(nameof(BigGanDiscriminator))
    {
        if (channels <= 0 || channels % 4 != 0) throw new ArgumentException($"D channels must be a positive multiple of 4 (got {channels}).");
        if (depth <= 0) throw new ArgumentException($"D depth must be positive (got {depth}).");
        int[] inMul = [1, 2, 4, 8], outMul = [2, 4, 8, 16];
        input_conv = new SNConv2d(3, channels * inMul[0], 3, 1, hasBias: true, eps);
        blocks = new ModuleList<DBlock>();
        for (int stage = 0; stage < inMul.Length; stage++)
            for (int d = 0; d < depth; d++)
                blocks.Add(new DBlock(channels * (d == 0 ? inMul[stage] : outMul[stage]), channels * outMul[stage], downsample: d == 0, eps));
        long features = channels * outMul[^1];
        linear = new SNLinear(features, 1, hasBias: true, eps);
        embed = new SNEmbedding(numClasses, features, eps);
        register_module("input_conv", input_conv);
        register_module("blocks", blocks);
        register_module("linear", linear);
        register_module("embed", embed);
    }

    public Tensor Forward(Tensor images, Tensor classIds)
    {
        using var scope = NewDisposeScope();
        var h = input_conv.forward(images);
        foreach (var block in blocks) h = block.forward(h);
        h = h.relu().sum([2L, 3L]);
        var output = linear.forward(h).squeeze(1);
        output = output + (embed.forward(classIds) * h).sum(1);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>False: BigGAN-PyTorch scores cat(fake, real) in one forward (no batch-dependent layer in D).</summary>
    public bool SeparateBatches => false;

    /// <summary>Every spectral-norm layer (for initialisation).</summary>
    public IEnumerable<SpectralNormLayer> SpectralNormLayers() => modules().OfType<SpectralNormLayer>();
}
