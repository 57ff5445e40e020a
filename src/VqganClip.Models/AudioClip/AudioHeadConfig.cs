namespace VqganClip.Models.AudioClip;

/// <summary>
/// The shape of an ESResNeXt-fbsp audio head (upstream <c>ESResNeXtFBSP</c> as AudioCLIP builds it). Everything
/// but the hop length and <c>normalized</c> is read from a state dict (<see cref="AudioHeadConfigInference"/>);
/// <see cref="Published"/> is the released AudioCLIP's head.
/// </summary>
public sealed record AudioHeadConfig
{
    /// <summary>AudioCLIP's framing: n_fft 2048, hop 561, window 1654 (upstream model/audioclip.py defaults).</summary>
    public const int PublishedNFft = 2048, PublishedHopLength = 561, PublishedWinLength = 1654;

    /// <summary>The sample rate AudioCLIP was trained on (protocols/audioclip-esc50.json, 44.1 kHz).</summary>
    public const int SampleRate = 44100;

    public required int NFft { get; init; }
    public required int HopLength { get; init; }
    public required int WinLength { get; init; }
    /// <summary>upstream <c>normalized</c>: the Fourier basis is divided by √n_fft (true in AudioCLIP).</summary>
    public bool Normalized { get; init; } = true;
    /// <summary>upstream <c>onesided</c>: n_fft/2 + 1 bins (true in AudioCLIP).</summary>
    public bool Onesided { get; init; } = true;
    /// <summary>The "colour" bands the spectrum is split into: conv1's input channels (3).</summary>
    public int Bands { get; init; } = 3;
    /// <summary>conv1's output channels (64 published).</summary>
    public required int StemWidth { get; init; }
    /// <summary>Bottlenecks per stage (3, 4, 6, 3 published).</summary>
    public required IReadOnlyList<int> Blocks { get; init; }
    /// <summary>Each stage's grouped 3×3 width (128, 256, 512, 1024 published: planes × 4/64 × 32 groups).</summary>
    public required IReadOnlyList<int> Widths { get; init; }
    /// <summary>Each stage's output channels (256, 512, 1024, 2048 published).</summary>
    public required IReadOnlyList<int> Outputs { get; init; }
    /// <summary>Groups of the 3×3 convolutions (32 published).</summary>
    public required int Groups { get; init; }
    /// <summary>upstream <c>apply_attention</c>: the att1..att5 gates.</summary>
    public bool ApplyAttention { get; init; } = true;
    /// <summary>num_kernels of att1..att5 (1 each published).</summary>
    public IReadOnlyList<int> AttentionKernels { get; init; } = [1, 1, 1, 1, 1];
    /// <summary>Kernel sizes of att1..att5: (3,1), (1,5), (3,1), (1,5), (3,5) upstream.</summary>
    public IReadOnlyList<(int H, int W)> AttentionSizes { get; init; } = [(3, 1), (1, 5), (3, 1), (1, 5), (3, 5)];
    /// <summary><c>fc</c>'s outputs: the joint embedding width (1024 published).</summary>
    public required int EmbedDim { get; init; }

    /// <summary>Frequency bins of the Fourier basis.</summary>
    public int Bins => Onesided ? NFft / 2 + 1 : NFft;

    /// <summary>Stride of each stage's first block (upstream: 1, 2, 2, 2).</summary>
    public static int StageStride(int stage) => stage == 0 ? 1 : 2;

    /// <summary>Channels entering att{i+1}: the stem's for att1, then each stage's output.</summary>
    public int AttentionInput(int index) => index == 0 ? StemWidth : Outputs[index - 1];

    /// <summary>Channels att{i+1} produces: the stage output it multiplies (att5: layer4's).</summary>
    public int AttentionOutput(int index) => Outputs[Math.Min(index, 3)];

    /// <summary>The released AudioCLIP's audio head (32.1M parameters).</summary>
    public static AudioHeadConfig Published() => new()
    {
        NFft = PublishedNFft,
        HopLength = PublishedHopLength,
        WinLength = PublishedWinLength,
        StemWidth = 64,
        Blocks = [3, 4, 6, 3],
        Widths = [128, 256, 512, 1024],
        Outputs = [256, 512, 1024, 2048],
        Groups = 32,
        EmbedDim = 1024,
    };

    public AudioHeadConfig Validate()
    {
        if (NFft <= 0 || HopLength <= 0 || WinLength <= 0 || WinLength > NFft)
            throw new ArgumentException($"Audio head framing n_fft {NFft}, hop {HopLength}, window {WinLength}: all positive and window <= n_fft.");
        if (Blocks.Count != 4 || Widths.Count != 4 || Outputs.Count != 4)
            throw new ArgumentException("Audio head needs 4 stages (blocks, widths, outputs).");
        if (ApplyAttention && (AttentionKernels.Count != 5 || AttentionSizes.Count != 5))
            throw new ArgumentException("Audio head attention needs 5 gates (att1..att5).");
        if (Widths.Any(w => w % Groups != 0))
            throw new ArgumentException($"Audio head widths {string.Join(",", Widths)} must divide into {Groups} groups.");
        return this;
    }

    public string Describe() =>
        $"ESResNeXt-fbsp n_fft {NFft}, hop {HopLength}, window {WinLength}, stem {StemWidth}, blocks {string.Join("/", Blocks)}, " +
        $"widths {string.Join("/", Widths)}, outputs {string.Join("/", Outputs)}, groups {Groups}, attention {(ApplyAttention ? "on" : "off")}, embed {EmbedDim}";
}
