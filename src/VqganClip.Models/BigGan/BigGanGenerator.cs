using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.BigGan;

/// <summary>
/// upstream's <c>Generator</c> (renamed: <c>Generator</c> would clash with <c>torch.Generator</c>): <c>gen_z</c> (SN-linear 2·z_dim → 4·4·16·ch), <c>layers</c> (the GenBlocks of
/// config.layers with a SelfAttn inserted at attention_layer_position, so module indices shift by one after it),
/// <c>bn</c> (unconditional BigGANBatchNorm), relu, <c>conv_to_rgb</c> (SN-conv 3×3 ch→ch), first 3 channels, tanh.
/// </summary>
public sealed class BigGanGenerator : nn.Module
{
#pragma warning disable IDE1006
    private readonly SNLinear gen_z;
    private readonly ModuleList<nn.Module> layers;
    private readonly BigGanBatchNorm bn;
    private readonly SNConv2d conv_to_rgb;
#pragma warning restore IDE1006
    private readonly BigGanConfig _config;

    public BigGanGenerator(BigGanConfig config) : base(nameof(BigGanGenerator))
    {
        _config = config;
        long ch = config.ChannelWidth;
        long cond = config.ConditionDim;
        gen_z = new SNLinear(cond, 4 * 4 * 16 * ch, hasBias: true, config.Eps);
        layers = new ModuleList<nn.Module>();
        for (int i = 0; i < config.Layers.Count; i++)
        {
            var layer = config.Layers[i];
            if (i == config.AttentionLayerPosition)
                layers.Add(new SelfAttn(ch * layer.InMultiplier, config.Eps));
            layers.Add(new GenBlock(ch * layer.InMultiplier, ch * layer.OutMultiplier, cond, layer.UpSample, config.NStats, config.Eps));
        }
        bn = new BigGanBatchNorm(ch, conditionDim: null, config.NStats, config.Eps);
        conv_to_rgb = new SNConv2d(ch, ch, 3, 1, hasBias: true, config.Eps);
        register_module("gen_z", gen_z);
        register_module("layers", layers);
        register_module("bn", bn);
        register_module("conv_to_rgb", conv_to_rgb);
    }

    /// <summary>The modules of <c>generator.layers</c> in order (GenBlocks and the SelfAttn).</summary>
    public IReadOnlyList<nn.Module> Layers => layers.ToList();

    /// <summary>
    /// Runs the generator. <paramref name="genZCondition"/> [B, 2·z_dim] feeds gen_z; GenBlock k (counting GenBlocks
    /// only, the attention layer takes none) gets <paramref name="blockCondition"/>(k). Upstream's forward passes the
    /// same cond everywhere; Big Sleep's passes a different row to each. Returns [B, 3, H, W] in [-1, 1].
    /// </summary>
    public Tensor Forward(Tensor genZCondition, Func<int, Tensor> blockCondition, double truncation)
    {
        using var scope = NewDisposeScope();
        var z = gen_z.forward(genZCondition);
        // The published weights come from TensorFlow, whose gen_z output is laid out [batch, height, width, channels]:
        // view it as such, then permute to PyTorch's [batch, channels, height, width].
        z = z.view(-1, 4, 4, 16 * _config.ChannelWidth).permute(0, 3, 1, 2).contiguous();
        int block = 0;
        foreach (var layer in layers)
        {
            z = layer switch
            {
                GenBlock genBlock => genBlock.Forward(z, blockCondition(block++), truncation),
                SelfAttn attention => attention.forward(z),
                _ => throw new InvalidOperationException($"Unexpected module {layer.GetType().Name} in generator.layers."),
            };
        }
        z = bn.Forward(z, truncation).relu();
        z = conv_to_rgb.forward(z);
        return z.narrow(1, 0, 3).tanh().MoveToOuterDisposeScope();
    }
}
