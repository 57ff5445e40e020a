using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// taming's <c>ResnetBlock</c> with <c>temb_channels=0</c> (VQGAN never uses a timestep embedding, so
/// <c>temb_proj</c> does not exist): norm1, swish, conv1, norm2, swish, dropout, conv2, plus the input
/// (through <c>nin_shortcut</c> 1x1, or <c>conv_shortcut</c> 3x3, when the width changes).
/// </summary>
public sealed class ResnetBlock : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly GroupNorm norm2;
    private readonly Dropout dropout;
    private readonly Conv2d conv2;
    // Field names are the registered names: TorchSharp also registers module-typed fields by their names.
    private readonly Conv2d? nin_shortcut;
    private readonly Conv2d? conv_shortcut;

    public ResnetBlock(long inChannels, long outChannels, double dropout, bool convShortcut = false) : base(nameof(ResnetBlock))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        // Registration follows the reference's attribute order, so parameter lists come out in taming's order.
        norm1 = VqganLayers.Normalize(inChannels);
        conv1 = VqganLayers.Conv3x3(inChannels, outChannels);
        norm2 = VqganLayers.Normalize(outChannels);
        this.dropout = nn.Dropout(dropout);
        conv2 = VqganLayers.Conv3x3(outChannels, outChannels);
        register_module("norm1", norm1);
        register_module("conv1", conv1);
        register_module("norm2", norm2);
        register_module("dropout", this.dropout);
        register_module("conv2", conv2);
        if (inChannels != outChannels)
        {
            if (convShortcut)
            {
                conv_shortcut = VqganLayers.Conv3x3(inChannels, outChannels);
                register_module("conv_shortcut", conv_shortcut);
            }
            else
            {
                nin_shortcut = VqganLayers.Conv1x1(inChannels, outChannels);
                register_module("nin_shortcut", nin_shortcut);
            }
        }
    }

    public long InChannels { get; }
    public long OutChannels { get; }

    public override Tensor forward(Tensor x)
    {
        // Intermediates are released as soon as they are used (autograd keeps what it needs natively):
        // at 512x512 one 128-channel activation is 128 MB, so holding them to the end of the block adds up.
        Tensor h;
        using (var n1 = norm1.forward(x))
        using (var a1 = VqganLayers.Swish(n1))
            h = NarrowConvolution.Forward(conv1, a1);
        using (var h1 = h)
        using (var n2 = norm2.forward(h1))
        using (var a2 = VqganLayers.Swish(n2))
        using (var d2 = dropout.forward(a2))
            h = NarrowConvolution.Forward(conv2, d2);
        using (h)
        {
            var shortcut = nin_shortcut ?? conv_shortcut;
            // held alphas: an implicit one can be finalized during the call (HeldScalars)
            if (shortcut is null) return x.add(h, HeldScalars.One);
            using var skip = NarrowConvolution.Forward(shortcut, x);
            return skip.add(h, HeldScalars.One);
        }
    }
}
