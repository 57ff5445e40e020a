using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>One resolution level of the encoder: taming's <c>down[i]</c> (block, attn, downsample).</summary>
public sealed class DownLevel : nn.Module
{
    public readonly ModuleList<ResnetBlock> block;
    public readonly ModuleList<AttnBlock> attn;
    public readonly Downsample? downsample;

    public DownLevel(IEnumerable<ResnetBlock> blocks, IEnumerable<AttnBlock> attns, Downsample? downsample) : base(nameof(DownLevel))
    {
        block = new ModuleList<ResnetBlock>(blocks.ToArray());
        attn = new ModuleList<AttnBlock>(attns.ToArray());
        this.downsample = downsample;
        register_module("block", block);
        register_module("attn", attn);
        if (downsample is not null) register_module("downsample", downsample);
    }
}

/// <summary>The bottleneck shared by encoder and decoder: taming's <c>mid</c> (block_1, attn_1, block_2).</summary>
public sealed class MidBlock : nn.Module<Tensor, Tensor>
{
    public readonly ResnetBlock block_1;
    public readonly AttnBlock attn_1;
    public readonly ResnetBlock block_2;

    public MidBlock(long channels, double dropout, bool convShortcut) : base(nameof(MidBlock))
    {
        block_1 = new ResnetBlock(channels, channels, dropout, convShortcut);
        attn_1 = new AttnBlock(channels);
        block_2 = new ResnetBlock(channels, channels, dropout, convShortcut);
        register_module("block_1", block_1);
        register_module("attn_1", attn_1);
        register_module("block_2", block_2);
    }

    public override Tensor forward(Tensor x)
    {
        var h = block_1.forward(x);
        h = VqganLayers.Replace(h, attn_1.forward(h));
        return VqganLayers.Replace(h, block_2.forward(h));
    }
}

/// <summary>
/// taming's <c>Encoder</c> (taming/modules/diffusionmodules/model.py) with temb_ch = 0:
/// conv_in, per level num_res_blocks ResnetBlocks (each followed by an AttnBlock at attention
/// levels) and a Downsample except at the last level, mid, norm_out, swish, conv_out
/// (2*z_channels when double_z).
/// </summary>
public sealed class Encoder : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_in;
    private readonly ModuleList<DownLevel> down;
    private readonly MidBlock mid;
    private readonly GroupNorm norm_out;
    private readonly Conv2d conv_out;

    public Encoder(VqganDdConfig config) : base(nameof(Encoder))
    {
        config.Validate();
        long ch = config.Ch;
        var attentionLevels = config.EncoderAttentionLevels();
        conv_in = VqganLayers.Conv3x3(config.InChannels, ch);

        var inChMult = config.ChMult.Prepend(1).ToArray();   // taming's in_ch_mult = (1,) + ch_mult
        var levels = new List<DownLevel>();
        long blockIn = ch;
        for (int level = 0; level < config.NumResolutions; level++)
        {
            var blocks = new List<ResnetBlock>();
            var attns = new List<AttnBlock>();
            blockIn = ch * inChMult[level];
            long blockOut = ch * config.ChMult[level];
            for (int i = 0; i < config.NumResBlocks; i++)
            {
                blocks.Add(new ResnetBlock(blockIn, blockOut, config.Dropout, config.ConvShortcut));
                blockIn = blockOut;
                if (attentionLevels[level]) attns.Add(new AttnBlock(blockIn));
            }
            var downsample = level != config.NumResolutions - 1 ? new Downsample(blockIn, config.ResampWithConv) : null;
            levels.Add(new DownLevel(blocks, attns, downsample));
        }
        down = new ModuleList<DownLevel>(levels.ToArray());
        mid = new MidBlock(blockIn, config.Dropout, config.ConvShortcut);
        norm_out = VqganLayers.Normalize(blockIn);
        conv_out = VqganLayers.Conv3x3(blockIn, config.DoubleZ ? 2 * config.ZChannels : config.ZChannels);

        register_module("conv_in", conv_in);
        register_module("down", down);
        register_module("mid", mid);
        register_module("norm_out", norm_out);
        register_module("conv_out", conv_out);
    }

    public override Tensor forward(Tensor x)
    {
        // taming keeps every intermediate in a list `hs` but only ever reads hs[-1]: a running h suffices.
        var h = NarrowConvolution.Forward(conv_in, x);
        foreach (var level in down)
        {
            for (int i = 0; i < level.block.Count; i++)
            {
                h = VqganLayers.Replace(h, level.block[i].forward(h));
                if (level.attn.Count > 0) h = VqganLayers.Replace(h, level.attn[i].forward(h));
            }
            if (level.downsample is not null) h = VqganLayers.Replace(h, level.downsample.forward(h));
        }
        h = VqganLayers.Replace(h, mid.forward(h));
        h = VqganLayers.Replace(h, norm_out.forward(h));
        h = VqganLayers.Replace(h, VqganLayers.Swish(h));
        return VqganLayers.Replace(h, NarrowConvolution.Forward(conv_out, h));
    }
}
