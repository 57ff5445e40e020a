using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// rosinality's <c>ModulatedConv2d</c> on its fused path (the one upstream's forward takes): <c>weight</c>
/// [1, out, in, k, k] scaled by 1/√(in·k²), multiplied per sample by the style s = <c>modulation</c>(w) (EqualLinear
/// style_dim → in, bias init 1), demodulated by rsqrt(Σ_in,k,k w² + 1e-8) when asked, then one grouped convolution
/// with groups = batch. Up-sampling: transposed convolution, stride 2, then <c>blur</c> (pads ((p+1)//2 + 1, p//2 + 1),
/// p = len(blur) − 2 − (k − 1), kernel ×4). Down-sampling (the discriminator's) is not needed by the generator.
/// <para>
/// <see cref="Forward(Tensor, Tensor)"/> takes the style vector itself (StyleSpace), so the W and StyleSpace inputs
/// share one path. With fewer than 16 filters per group (ToRGB's 3; a small model's last layers) and autograd on a
/// CPU float32 tensor, the filters are zero-padded to 16 and the extra outputs dropped; with a batch of one (one group,
/// as in StyleCLIP) the convolution also goes through <c>NarrowConvolution</c>'s other channel counts.
/// </para>
/// </summary>
public sealed class ModulatedConv2d : nn.Module
{
#pragma warning disable IDE1006
    private readonly Parameter weight;
    private readonly EqualLinear modulation;
    private readonly Blur? blur;
#pragma warning restore IDE1006

    public ModulatedConv2d(int inChannel, int outChannel, int kernelSize, int styleDim, bool demodulate, bool upsample, IReadOnlyList<int> blurKernel)
        : base(nameof(ModulatedConv2d))
    {
        InChannel = inChannel;
        OutChannel = outChannel;
        KernelSize = kernelSize;
        Demodulate = demodulate;
        IsUpsample = upsample;
        Scale = 1.0 / Math.Sqrt(inChannel * kernelSize * kernelSize);
        Padding = kernelSize / 2;
        // upstream's attribute order: blur (when up-sampling), weight, modulation.
        if (upsample)
        {
            const int factor = 2;
            int p = blurKernel.Count - factor - (kernelSize - 1);
            blur = new Blur(blurKernel, (FloorDiv(p + 1, 2) + factor - 1, FloorDiv(p, 2) + 1), upsampleFactor: factor);
            register_module("blur", blur);
        }
        weight = new Parameter(randn(new long[] { 1, outChannel, inChannel, kernelSize, kernelSize }), requires_grad: false);
        register_parameter("weight", weight);
        modulation = new EqualLinear(styleDim, inChannel, biasInit: 1);
        register_module("modulation", modulation);
    }

    public int InChannel { get; }
    public int OutChannel { get; }
    public int KernelSize { get; }
    public bool Demodulate { get; }
    public bool IsUpsample { get; }
    public double Scale { get; }
    public int Padding { get; }

    public Parameter Weight => weight;

    /// <summary>The style vector s [B, in] this layer takes from w [B, style_dim]: StyleSpace's coordinate.</summary>
    public Tensor Style(Tensor w) => modulation.forward(w);

    /// <summary>x [B, in, H, W] modulated by the style vector <paramref name="style"/> [B, in] (not w: see <see cref="Style"/>).</summary>
    public Tensor Forward(Tensor x, Tensor style)
    {
        long batch = x.shape[0], height = x.shape[2], width = x.shape[3];
        if (style.dim() != 2 || style.shape[0] != batch || style.shape[1] != InChannel)
            throw new ArgumentException($"style vector must be [{batch}, {InChannel}], got [{string.Join(", ", style.shape)}].", nameof(style));
        using var scope = NewDisposeScope();
        var w = weight * Scale * style.view(batch, 1, InChannel, 1, 1); // [B, out, in, k, k]
        if (Demodulate)
        {
            var demod = rsqrt(w.pow(2).sum([2, 3, 4]) + 1e-8);
            w = w * demod.view(batch, OutChannel, 1, 1, 1);
        }

        // Filters per group, padded to 16 where the native backward would be unreliable (values unchanged).
        long outPerGroup = OutChannel;
        if (OutChannel < NarrowConvolution.SafeOutputChannels && is_grad_enabled() && x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32)
        {
            outPerGroup = NarrowConvolution.SafeOutputChannels;
            w = F.pad(w, [0, 0, 0, 0, 0, 0, 0, outPerGroup - OutChannel]);
        }

        var input = x.reshape(1, batch * InChannel, height, width);
        Tensor output;
        if (IsUpsample)
        {
            // conv_transpose2d weight layout: [in_total, out_per_group, k, k].
            var wt = w.transpose(1, 2).reshape(batch * InChannel, outPerGroup, KernelSize, KernelSize);
            output = NarrowConvolution.Transposed(input, wt, null, [2, 2], [0, 0], groups: batch);
        }
        else
        {
            var wc = w.reshape(batch * outPerGroup, InChannel, KernelSize, KernelSize);
            // one groups-1 convolution per sample on CPU float32: libtorch's grouped one gave a wrong gradient there (environment.md)
            output = x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32 && batch > 1
                ? NarrowConvolution.ForwardPerGroup(input, wc, [1, 1], [Padding, Padding], [1, 1], groups: batch)
                : NarrowConvolution.Forward(input, wc, null, [1, 1], [Padding, Padding], [1, 1], groups: batch);
        }
        output = output.view(batch, outPerGroup, output.shape[2], output.shape[3]);
        if (outPerGroup != OutChannel) output = output.narrow(1, 0, OutChannel);
        if (blur is not null) output = blur.forward(output);
        return output.contiguous().MoveToOuterDisposeScope();
    }

    private static int FloorDiv(int a, int b) => (int)Math.Floor(a / (double)b);
}
