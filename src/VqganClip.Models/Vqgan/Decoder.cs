using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>One resolution level of the decoder: taming's <c>up[i]</c> (block, attn, upsample).</summary>
public sealed class UpLevel : nn.Module
{
    public readonly ModuleList<ResnetBlock> block;
    public readonly ModuleList<AttnBlock> attn;
    public readonly Upsample? upsample;

    public UpLevel(IEnumerable<ResnetBlock> blocks, IEnumerable<AttnBlock> attns, Upsample? upsample) : base(nameof(UpLevel))
    {
        block = new ModuleList<ResnetBlock>(blocks.ToArray());
        attn = new ModuleList<AttnBlock>(attns.ToArray());
        this.upsample = upsample;
        register_module("block", block);
        register_module("attn", attn);
        if (upsample is not null) register_module("upsample", upsample);
    }
}

/// <summary>
/// taming's <c>Decoder</c> (taming/modules/diffusionmodules/model.py) with temb_ch = 0:
/// conv_in (z_channels -> deepest width), mid, then from the deepest level up num_res_blocks+1
/// ResnetBlocks per level (AttnBlocks at attention levels) and an Upsample except at level 0,
/// norm_out, swish, conv_out; optional give_pre_end and tanh_out.
/// taming builds <c>up</c> deepest-first and inserts each level at index 0, so index N of
/// <c>up</c> (and of the state dict names) is resolution level N, as here.
/// </summary>
public sealed class Decoder : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_in;
    private readonly MidBlock mid;
    private readonly ModuleList<UpLevel> up;
    private readonly GroupNorm norm_out;
    private readonly Conv2d conv_out;
    private readonly bool givePreEnd;
    private readonly bool tanhOut;

    public Decoder(VqganDdConfig config) : base(nameof(Decoder))
    {
        config.Validate();
        long ch = config.Ch;
        int levelsCount = config.NumResolutions;
        var attentionLevels = config.DecoderAttentionLevels();
        givePreEnd = config.GivePreEnd;
        tanhOut = config.TanhOut;

        long blockIn = ch * config.ChMult[levelsCount - 1];
        conv_in = VqganLayers.Conv3x3(config.ZChannels, blockIn);
        mid = new MidBlock(blockIn, config.Dropout, config.ConvShortcut);

        var levels = new UpLevel[levelsCount];
        for (int level = levelsCount - 1; level >= 0; level--)
        {
            var blocks = new List<ResnetBlock>();
            var attns = new List<AttnBlock>();
            long blockOut = ch * config.ChMult[level];
            for (int i = 0; i < config.NumResBlocks + 1; i++)
            {
                blocks.Add(new ResnetBlock(blockIn, blockOut, config.Dropout, config.ConvShortcut));
                blockIn = blockOut;
                if (attentionLevels[level]) attns.Add(new AttnBlock(blockIn));
            }
            var upsample = level != 0 ? new Upsample(blockIn, config.ResampWithConv) : null;
            levels[level] = new UpLevel(blocks, attns, upsample);
        }
        up = new ModuleList<UpLevel>(levels);
        norm_out = VqganLayers.Normalize(blockIn);
        conv_out = VqganLayers.Conv3x3(blockIn, config.OutCh);

        register_module("conv_in", conv_in);
        register_module("mid", mid);
        register_module("up", up);
        register_module("norm_out", norm_out);
        register_module("conv_out", conv_out);
    }

    public override Tensor forward(Tensor z)
    {
        var h = NarrowConvolution.Forward(conv_in, z);
        h = VqganLayers.Replace(h, mid.forward(h));
        for (int level = up.Count - 1; level >= 0; level--)
        {
            var stage = up[level];
            for (int i = 0; i < stage.block.Count; i++)
            {
                h = VqganLayers.Replace(h, stage.block[i].forward(h));
                if (stage.attn.Count > 0) h = VqganLayers.Replace(h, stage.attn[i].forward(h));
            }
            if (stage.upsample is not null) h = VqganLayers.Replace(h, stage.upsample.forward(h));
        }
        if (givePreEnd) return h;
        h = VqganLayers.Replace(h, norm_out.forward(h));
        h = VqganLayers.Replace(h, VqganLayers.Swish(h));
        h = VqganLayers.Replace(h, NarrowConvolution.Forward(conv_out, h));
        return tanhOut ? VqganLayers.Replace(h, torch.tanh(h)) : h;
    }
}
