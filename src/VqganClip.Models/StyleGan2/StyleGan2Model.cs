using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// rosinality/stylegan2-pytorch's <c>Generator</c> (model.py), with its state-dict names: <c>style.0</c> (PixelNorm,
/// no tensors), <c>style.1..n_mlp</c> (EqualLinear, lr_mul 0.01, fused leaky ReLU), <c>input.input</c>,
/// <c>conv1</c>, <c>to_rgb1</c>, <c>convs.N</c>, <c>to_rgbs.N</c>, the <c>noises.noise_N</c> buffers and every
/// <c>blur.kernel</c> / <c>upsample.kernel</c> buffer. Frozen (no parameter requires grad) and in eval mode;
/// gradients flow to the inputs (z, W, W+ or the StyleSpace vectors).
/// <para>Three input spaces: z → <see cref="Map"/> → w [B, style_dim]; W+ [B, n_latent, style_dim] (one w per
/// layer input, <see cref="Synthesize"/>); StyleSpace, the per-layer style vectors the modulations compute
/// (<see cref="StyleSpace"/>, <see cref="SynthesizeFromStyles"/>: StyleCLIP's <c>input_is_stylespace</c>).</para>
/// </summary>
public sealed partial class StyleGan2Model : nn.Module
{
#pragma warning disable IDE1006
    private readonly Sequential style;
    private readonly ConstantInputModule input;
    private readonly StyledConv conv1;
    private readonly ToRgb to_rgb1;
    private readonly ModuleList<StyledConv> convs;
    private readonly ModuleList<ToRgb> to_rgbs;
    private readonly NoiseBuffers noises;
#pragma warning restore IDE1006

    /// <summary>Builds the generator for <paramref name="config"/> with random weights (upstream's initialisation), frozen.</summary>
    public StyleGan2Model(StyleGan2Config config, Device? device = null) : base("Generator")
    {
        ArgumentNullException.ThrowIfNull(config);
        TorchRuntime.EnsureInitialized();
        config.Validate();
        Config = config;
        var blurKernel = config.BlurKernel;

        var mapping = new List<(string, nn.Module<Tensor, Tensor>)> { ("0", new PixelNorm()) };
        for (int i = 0; i < config.NMlp; i++)
            mapping.Add(((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                new EqualLinear(config.StyleDim, config.StyleDim, lrMul: config.LrMlp, fusedLeakyRelu: true)));
        style = nn.Sequential(mapping);

        int c4 = config.ChannelsAt(4);
        input = new ConstantInputModule(c4);
        conv1 = new StyledConv(c4, c4, 3, config.StyleDim, upsample: false, blurKernel);
        to_rgb1 = new ToRgb(c4, config.StyleDim, upsample: false, blurKernel);
        noises = new NoiseBuffers(config);
        convs = new ModuleList<StyledConv>();
        to_rgbs = new ModuleList<ToRgb>();
        int inChannel = c4;
        for (int res = 8; res <= config.Size; res *= 2)
        {
            int outChannel = config.ChannelsAt(res);
            convs.Add(new StyledConv(inChannel, outChannel, 3, config.StyleDim, upsample: true, blurKernel));
            convs.Add(new StyledConv(outChannel, outChannel, 3, config.StyleDim, upsample: false, blurKernel));
            to_rgbs.Add(new ToRgb(outChannel, config.StyleDim, upsample: true, blurKernel));
            inChannel = outChannel;
        }
        // upstream's attribute order: style, input, conv1, to_rgb1, convs, upsamples (empty), to_rgbs, noises.
        register_module("style", style);
        register_module("input", input);
        register_module("conv1", conv1);
        register_module("to_rgb1", to_rgb1);
        register_module("convs", convs);
        register_module("to_rgbs", to_rgbs);
        register_module("noises", noises);

        foreach (var parameter in parameters()) parameter.requires_grad = false;
        if (device is not null) this.to(device);
        DetachFromDisposeScopes();
        eval();
    }

    public StyleGan2Config Config { get; }

    public int ImageSize => Config.Size;

    public int StyleDim => Config.StyleDim;

    /// <summary>Rows of a W+ code.</summary>
    public int NLatent => Config.NLatent;

    public Device Device => input.Input.device;

    /// <summary>
    /// The modulated convolutions in StyleSpace order (StyleCLIP's style_vector list): conv1, to_rgb1, then per
    /// resolution convs.2k, convs.2k+1, to_rgbs.k. Entry i takes W+ row <see cref="StyleLatentIndex"/>(i).
    /// </summary>
    public IReadOnlyList<ModulatedConv2d> StyleLayers
    {
        get
        {
            var layers = new List<ModulatedConv2d> { conv1.Conv, to_rgb1.Conv };
            for (int k = 0; k < to_rgbs.Count; k++)
            {
                layers.Add(convs[2 * k].Conv);
                layers.Add(convs[2 * k + 1].Conv);
                layers.Add(to_rgbs[k].Conv);
            }
            return layers;
        }
    }

    /// <summary>Number of StyleSpace vectors: num_layers + the ToRGB layers (26 at 1024 px).</summary>
    public int StyleCount => 2 + 3 * to_rgbs.Count;

    /// <summary>Whether StyleSpace entry <paramref name="index"/> belongs to a ToRGB layer (1, 4, 7, ...), which StyleCLIP does not optimise.</summary>
    public static bool IsToRgbStyle(int index) => index % 3 == 1;

    /// <summary>The W+ row StyleSpace entry <paramref name="index"/> is computed from: conv1 0, to_rgb1 1, convs.j j+1, to_rgbs.k 2k+3.</summary>
    public static int StyleLatentIndex(int index) => index switch
    {
        0 => 0,
        1 => 1,
        _ => (index - 2) % 3 == 2 ? 2 * ((index - 2) / 3) + 3 : 2 * ((index - 2) / 3) + (index - 2) % 3 + 1,
    };

    /// <summary>upstream's <c>style(z)</c>: z [B, style_dim] → w [B, style_dim].</summary>
    public Tensor Map(Tensor z)
    {
        if (z.dim() != 2 || z.shape[1] != StyleDim)
            throw new ArgumentException($"Map expects z [batch, {StyleDim}], got [{string.Join(", ", z.shape)}].", nameof(z));
        return style.forward(z);
    }

    /// <summary>upstream's <c>mean_latent</c> with the z given: style(z).mean(0, keepdim) → [1, style_dim].</summary>
    public Tensor MeanLatent(Tensor z)
    {
        using var scope = NewDisposeScope();
        return Map(z).mean([0], keepdim: true).MoveToOuterDisposeScope();
    }

    /// <summary>upstream's <c>mean_latent(n)</c>: the mean w of <paramref name="count"/> z drawn from <paramref name="rng"/>.</summary>
    public Tensor MeanLatent(int count, Generator? rng = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var z = randn(new long[] { count, StyleDim }, generator: rng, device: Device);
        return MeanLatent(z).MoveToOuterDisposeScope();
    }

    /// <summary>Truncation: mean + ψ·(w − mean) (w or W+; the mean broadcasts).</summary>
    public static Tensor Truncate(Tensor w, Tensor meanLatent, double psi) => meanLatent + psi * (w - meanLatent);

    /// <summary>w [B, style_dim] repeated to W+ [B, n_latent, style_dim].</summary>
    public Tensor ToWPlus(Tensor w) => w.unsqueeze(1).repeat(1, NLatent, 1);

    /// <summary>Style mixing: rows 0..injectIndex−1 from <paramref name="w1"/>, the rest from <paramref name="w2"/> (both [B, style_dim]).</summary>
    public Tensor Mix(Tensor w1, Tensor w2, int injectIndex)
    {
        if (injectIndex < 1 || injectIndex >= NLatent)
            throw new ArgumentOutOfRangeException(nameof(injectIndex), $"inject_index must be in 1..{NLatent - 1} (got {injectIndex}).");
        using var scope = NewDisposeScope();
        return cat([w1.unsqueeze(1).repeat(1, injectIndex, 1), w2.unsqueeze(1).repeat(1, NLatent - injectIndex, 1)], 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// upstream's <c>forward(styles, inject_index, truncation, truncation_latent, input_is_latent, noise, randomize_noise)</c>:
    /// one or two inputs (z, or w / W+ when <paramref name="inputIsLatent"/>), each truncated when ψ &lt; 1, mixed at
    /// <paramref name="injectIndex"/> when two (random in 1..n_latent−1 when null, as upstream), then synthesised.
    /// Returns the image [B, 3, size, size] (about [−1, 1]) and the W+ code it used.
    /// </summary>
    public (Tensor Image, Tensor Latent) Forward(IReadOnlyList<Tensor> styles, StyleGan2Noise? noise = null, bool inputIsLatent = false,
        double truncation = 1, Tensor? truncationLatent = null, int? injectIndex = null, System.Random? injectRng = null)
    {
        ArgumentNullException.ThrowIfNull(styles);
        if (styles.Count is < 1 or > 2) throw new ArgumentException("Forward takes one or two style inputs.", nameof(styles));
        using var scope = NewDisposeScope();
        var ws = styles.Select(s => inputIsLatent ? s : Map(s)).ToList();
        if (truncation < 1)
        {
            if (truncationLatent is null) throw new ArgumentException("truncation < 1 needs the mean latent (truncation_latent).", nameof(truncationLatent));
            ws = ws.Select(w => Truncate(w, truncationLatent, truncation)).ToList();
        }
        Tensor latent;
        if (ws.Count == 1)
            latent = ws[0].dim() < 3 ? ToWPlus(ws[0]) : ws[0];
        else
            latent = Mix(ws[0], ws[1], injectIndex ?? (injectRng ?? System.Random.Shared).Next(1, NLatent));
        var image = Synthesize(latent, noise);
        return (image.MoveToOuterDisposeScope(), latent.MoveToOuterDisposeScope());
    }

    /// <summary>The StyleSpace vectors of a W+ code [B, n_latent, style_dim]: <see cref="StyleCount"/> tensors [B, in_i].</summary>
    public IReadOnlyList<Tensor> StyleSpace(Tensor wplus)
    {
        CheckWPlus(wplus);
        var layers = StyleLayers;
        var result = new List<Tensor>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
            result.Add(layers[i].Style(wplus.select(1, StyleLatentIndex(i))));
        return result;
    }

    /// <summary>The image of a W+ code [B, n_latent, style_dim]: [B, 3, size, size].</summary>
    public Tensor Synthesize(Tensor wplus, StyleGan2Noise? noise = null)
    {
        CheckWPlus(wplus);
        using var scope = NewDisposeScope();
        return SynthesizeFromStyles(StyleSpace(wplus), noise).MoveToOuterDisposeScope();
    }

    /// <summary>The image of StyleSpace vectors (<see cref="StyleSpace"/>'s list): StyleCLIP's <c>input_is_stylespace</c>.</summary>
    public Tensor SynthesizeFromStyles(IReadOnlyList<Tensor> styles, StyleGan2Noise? noise = null)
    {
        ArgumentNullException.ThrowIfNull(styles);
        if (styles.Count != StyleCount)
            throw new ArgumentException($"a {ImageSize}-px generator takes {StyleCount} style vectors, got {styles.Count}.", nameof(styles));
        noise ??= StyleGan2Noise.Fixed;
        if (noise.GivenImages is { } given && given.Count != Config.NumLayers)
            throw new ArgumentException($"a {ImageSize}-px generator takes {Config.NumLayers} noise images, got {given.Count}.", nameof(noise));
        long batch = styles[0].shape[0];
        using var scope = NewDisposeScope();
        var x = input.Forward(batch);
        x = conv1.Forward(x, styles[0], NoiseFor(0, noise, batch, 4));
        var skip = to_rgb1.Forward(x, styles[1], null);
        int res = 8;
        for (int k = 0; k < to_rgbs.Count; k++, res *= 2)
        {
            x = convs[2 * k].Forward(x, styles[2 + 3 * k], NoiseFor(2 * k + 1, noise, batch, res));
            x = convs[2 * k + 1].Forward(x, styles[3 + 3 * k], NoiseFor(2 * k + 2, noise, batch, res));
            skip = to_rgbs[k].Forward(x, styles[4 + 3 * k], skip);
        }
        return skip.MoveToOuterDisposeScope();
    }

    /// <summary>The noise buffer of layer <paramref name="layer"/> (<c>noises.noise_N</c>, [1, 1, res, res]).</summary>
    public Tensor NoiseBuffer(int layer) => noises.Get(layer);

    private Tensor NoiseFor(int layer, StyleGan2Noise noise, long batch, int res)
    {
        if (noise.GivenImages is { } given) return given[layer];
        if (noise.IsRandom) return randn(new long[] { batch, 1, res, res }, generator: noise.Rng, device: Device);
        return noises.Get(layer);
    }

    private void CheckWPlus(Tensor wplus)
    {
        if (wplus.dim() != 3 || wplus.shape[1] != NLatent || wplus.shape[2] != StyleDim)
            throw new ArgumentException($"a W+ code for this generator is [batch, {NLatent}, {StyleDim}], got [{string.Join(", ", wplus.shape)}].", nameof(wplus));
    }

    /// <summary>Parameters and buffers outlive the dispose scope the model is built in.</summary>
    internal void DetachFromDisposeScopes()
    {
        foreach (var parameter in parameters()) parameter.DetachFromDisposeScope();
        foreach (var buffer in buffers()) buffer.DetachFromDisposeScope();
    }

    /// <summary>rosinality's <c>PixelNorm</c>: x·rsqrt(mean(x², dim 1) + 1e-8).</summary>
    private sealed class PixelNorm() : nn.Module<Tensor, Tensor>("PixelNorm")
    {
        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return (x * rsqrt(x.pow(2).mean([1], keepdim: true) + 1e-8)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>rosinality's <c>ConstantInput</c>: the parameter <c>input</c> [1, C, 4, 4] repeated over the batch.</summary>
    private sealed class ConstantInputModule : nn.Module
    {
#pragma warning disable IDE1006
        private readonly Parameter input;
#pragma warning restore IDE1006

        public ConstantInputModule(int channels) : base("ConstantInput")
        {
            input = new Parameter(randn(1, channels, 4, 4), requires_grad: false);
            register_parameter("input", input);
        }

        public Parameter Input => input;

        public Tensor Forward(long batch) => input.repeat(batch, 1, 1, 1);
    }

    /// <summary>upstream's <c>noises</c> module: buffers <c>noise_0..num_layers−1</c>, [1, 1, 2^((i+5)//2), same].</summary>
    private sealed class NoiseBuffers : nn.Module
    {
        public NoiseBuffers(StyleGan2Config config) : base("Module")
        {
            for (int i = 0; i < config.NumLayers; i++)
            {
                int res = 1 << ((i + 5) / 2);
                register_buffer($"noise_{i}", randn(1, 1, res, res));
            }
        }

        // Looked up by name: moving the module to another device replaces the buffers.
        public Tensor Get(int layer) => get_buffer($"noise_{layer}") ?? throw new InvalidOperationException($"no buffer noise_{layer}");
    }
}
