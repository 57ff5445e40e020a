using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// upstream <c>ESResNeXtFBSP</c> (model/esresnet/fbsp.py over base.py's <c>_ESResNet</c> and <c>ResNetWithAttention</c>),
/// AudioCLIP's <c>audio</c> head, with upstream's state-dict names: <c>fbsp</c>, the <c>window</c> buffer,
/// <c>conv1</c>/<c>bn1</c>, <c>layer1..4</c>, <c>att1..5</c>, <c>fc</c>. Raw samples in the int16 range go through
/// <see cref="SignalFraming"/>, <see cref="LinearFbsp"/>, <see cref="SpectrogramBands"/> (decibels), the ResNeXt with
/// its attention gates and the projection <c>fc</c> to the joint space. Frozen and in eval mode when built.
/// </summary>
public sealed class EsResNeXtFbsp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // reference parameter names
    public readonly LinearFbsp fbsp;
    public readonly Conv2d conv1;
    public readonly BatchNorm2d bn1;
    public readonly MaxPool2d maxpool;
    public readonly Sequential layer1;
    public readonly Sequential layer2;
    public readonly Sequential layer3;
    public readonly Sequential layer4;
    public readonly AttentionGate? att1;
    public readonly AttentionGate? att2;
    public readonly AttentionGate? att3;
    public readonly AttentionGate? att4;
    public readonly AttentionGate? att5;
    public readonly Linear fc;
#pragma warning restore IDE1006

    public EsResNeXtFbsp(AudioHeadConfig config) : base("ESResNeXtFBSP")
    {
        Config = config.Validate();
        fbsp = new LinearFbsp(config.Bins, config.Normalized);
        conv1 = nn.Conv2d(config.Bands, config.StemWidth, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(config.StemWidth);
        maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        int inplanes = config.StemWidth;
        var stages = new Sequential[4];
        for (int s = 0; s < 4; s++)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < config.Blocks[s]; b++)
            {
                int stride = b == 0 ? AudioHeadConfig.StageStride(s) : 1;
                bool downsample = b == 0 && (stride != 1 || inplanes != config.Outputs[s]); // upstream _make_layer's rule
                blocks.Add(new ResNeXtBottleneck(inplanes, config.Widths[s], config.Outputs[s], config.Groups, stride, downsample));
                inplanes = config.Outputs[s];
            }
            stages[s] = nn.Sequential(blocks);
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        if (config.ApplyAttention)
        {
            var gates = Enumerable.Range(0, 5)
                .Select(i => new AttentionGate(config.AttentionInput(i), config.AttentionOutput(i), config.AttentionKernels[i], config.AttentionSizes[i]))
                .ToArray();
            (att1, att2, att3, att4, att5) = (gates[0], gates[1], gates[2], gates[3], gates[4]);
        }
        fc = nn.Linear(config.Outputs[3], config.EmbedDim);
        RegisterComponents();
        // upstream fills the buffer with scipy's periodic window; a checkpoint's copy replaces this one.
        register_buffer("window", BlackmanHarris(config.WinLength));
        foreach (var p in parameters()) p.requires_grad = false;
        eval();
    }

    public AudioHeadConfig Config { get; }

    /// <summary>scipy.signal.get_window('blackmanharris', n, fftbins=True): the periodic 4-term Blackman–Harris window, in double then float32.</summary>
    public static Tensor BlackmanHarris(int n)
    {
        double[] a = [0.35875, 0.48829, 0.14128, 0.01168];
        var w = new float[n];
        for (int i = 0; i < n; i++)
        {
            double x = 2 * Math.PI * i / n;
            w[i] = (float)(a[0] - a[1] * Math.Cos(x) + a[2] * Math.Cos(2 * x) - a[3] * Math.Cos(3 * x));
        }
        return tensor(w);
    }

    /// <summary>The framing window buffer (<c>audio.window</c>).</summary>
    public Tensor Window => get_buffer("window")!;

    /// <summary>Raw samples [B, L] or [B, 1, L] (int16 range) → scaled [B·C, L].</summary>
    private static Tensor Flat(Tensor audio) => SignalFraming.ScaleInt16Range(audio.to(ScalarType.Float32).view(-1, audio.shape[^1]));

    /// <summary>upstream <c>spectrogram</c>'s frames: windowed, zero-padded to n_fft [B·C, T, n_fft].</summary>
    public Tensor Frames(Tensor audio)
    {
        using var scope = NewDisposeScope();
        var frames = SignalFraming.Frame(Flat(audio), Config.WinLength, Config.HopLength, Window);
        if (Config.NFft > Config.WinLength)
        {
            int pad = Config.NFft - Config.WinLength;
            frames = F.pad(frames, [pad / 2, pad - pad / 2]);
        }
        return frames.MoveToOuterDisposeScope();
    }

    /// <summary>upstream <c>spectrogram</c>: [B·C, bins, T, 2] (re, im).</summary>
    public Tensor Spectrogram(Tensor audio)
    {
        using var scope = NewDisposeScope();
        return fbsp.forward(Frames(audio)).transpose(-2, -3).MoveToOuterDisposeScope();
    }

    /// <summary>upstream <c>_forward_pre_processing</c>: the decibel input [B, C, bands, bins/bands, T].</summary>
    public Tensor DecibelInput(Tensor audio)
    {
        using var scope = NewDisposeScope();
        return SpectrogramBands.ToDecibels(Spectrogram(audio), audio.shape[0], Config.Bands).MoveToOuterDisposeScope();
    }

    /// <summary>One stage and its gate: upstream multiplies the stage's output by att(stage input pooled to the output's size).</summary>
    private static Tensor Stage(Sequential layer, AttentionGate? gate, Tensor x)
    {
        var y = layer.forward(x);
        return gate is null ? y : y * gate.forward(x, [y.shape[^2], y.shape[^1]]);
    }

    /// <summary>upstream <c>_forward_features</c> + <c>_forward_reduction</c> for one channel's bands [B, bands, F, T] → [B, outputs].</summary>
    private Tensor Reduce(Tensor bands)
    {
        var x = F.relu(bn1.forward(NarrowConvolution.Forward(conv1, bands)));
        x = maxpool.forward(x);
        x = Stage(layer1, att1, x);
        x = Stage(layer2, att2, x);
        x = Stage(layer3, att3, x);
        x = Stage(layer4, att4, x);
        var pooled = F.adaptive_avg_pool2d(x, [1, 1]);
        if (att5 is not null)
            pooled = pooled * att5.forward(x, [1, 1]);
        return pooled.flatten(1);
    }

    /// <summary>Decibels [B, C, bands, F, T] → embedding [B, embed]: each channel reduced, the reductions summed, then <c>fc</c>.</summary>
    public Tensor Embed(Tensor decibels)
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (long c = 0; c < decibels.shape[1]; c++)
        {
            var reduced = Reduce(decibels.select(1, c));
            sum = sum is null ? reduced : sum + reduced;
        }
        return fc.forward(sum!).MoveToOuterDisposeScope();
    }

    /// <summary>upstream forward (AudioCLIP's <c>encode_audio</c>): samples in the int16 range → unnormalised embedding [B, embed].</summary>
    public override Tensor forward(Tensor audio)
    {
        using var scope = NewDisposeScope();
        return Embed(DecibelInput(audio)).MoveToOuterDisposeScope();
    }
}
