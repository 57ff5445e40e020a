using System.Globalization;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// Reads an <see cref="AudioHeadConfig"/> from the shapes of an AudioCLIP state dict's <c>audio.*</c> tensors, as
/// upstream's constructor would have to be called to produce them: bins from <c>fbsp.m</c>, window length from the
/// <c>window</c> buffer, stem from <c>conv1</c>, blocks/widths/groups/outputs from each <c>layerN.M</c>, gates from
/// <c>attN.conv_depth</c>, the embedding from <c>fc</c>. The hop length and <c>normalized</c> are not stored:
/// they come from the caller, else the file's metadata (<c>hop_length</c>, <c>normalized</c>), else AudioCLIP's
/// (hop 561 when n_fft is 2048 and the window 1654; normalized true). Errors name the missing or odd tensor.
/// </summary>
public static class AudioHeadConfigInference
{
    public const string Prefix = "audio.";

    public static AudioHeadConfig Infer(IReadOnlyDictionary<string, long[]> shapes, IReadOnlyDictionary<string, string>? metadata,
        int? hopLength, bool? normalized)
    {
        long[] Shape(string name, int rank)
        {
            if (!shapes.TryGetValue(Prefix + name, out var s))
                throw new InvalidDataException($"no tensor {Prefix}{name}");
            if (s.Length != rank)
                throw new InvalidDataException($"{Prefix}{name} has shape [{string.Join(",", s)}], expected {rank} dimensions");
            return s;
        }
        bool Has(string name) => shapes.ContainsKey(Prefix + name);

        int bins = (int)Shape("fbsp.m", 1)[0];
        int win = (int)Shape("window", 1)[0];
        int nfft = 2 * (bins - 1); // onesided: int(round(n_fft / 2)) + 1 bins
        if (bins < 2 || win > nfft)
            throw new InvalidDataException($"{Prefix}fbsp.m has {bins} bins (n_fft {nfft}) but {Prefix}window has {win} samples; the window must fit in n_fft");
        foreach (var p in new[] { "fbsp.fb", "fbsp.fc" })
            if (Shape(p, 1)[0] != bins)
                throw new InvalidDataException($"{Prefix}{p} has {shapes[Prefix + p][0]} bins, {Prefix}fbsp.m {bins}");

        var stem = Shape("conv1.weight", 4);
        int bands = (int)stem[1];
        int stemWidth = (int)stem[0];

        var blocks = new int[4];
        var widths = new int[4];
        var outputs = new int[4];
        int groups = 0;
        for (int s = 0; s < 4; s++)
        {
            while (Has($"layer{s + 1}.{blocks[s]}.conv1.weight")) blocks[s]++;
            if (blocks[s] == 0) throw new InvalidDataException($"no tensor {Prefix}layer{s + 1}.0.conv1.weight");
            var c2 = Shape($"layer{s + 1}.0.conv2.weight", 4);
            widths[s] = (int)c2[0];
            int g = (int)(c2[0] / c2[1]);
            if (groups != 0 && g != groups)
                throw new InvalidDataException($"{Prefix}layer{s + 1}.0.conv2.weight implies {g} groups, earlier stages {groups}");
            groups = g;
            outputs[s] = (int)Shape($"layer{s + 1}.0.conv3.weight", 4)[0];
        }

        bool attention = Has("att1.conv_depth.weight");
        var kernels = new List<int>();
        var sizes = new List<(int, int)>();
        if (attention)
        {
            for (int i = 0; i < 5; i++)
            {
                var d = Shape($"att{i + 1}.conv_depth.weight", 4);
                int input = i == 0 ? stemWidth : outputs[i - 1];
                if (d[0] % input != 0)
                    throw new InvalidDataException($"{Prefix}att{i + 1}.conv_depth.weight has {d[0]} filters, not a multiple of its {input} input channels");
                kernels.Add((int)(d[0] / input));
                sizes.Add(((int)d[2], (int)d[3]));
            }
        }
        int embed = (int)Shape("fc.weight", 2)[0];

        int hop = hopLength
            ?? Meta(metadata, "hop_length")
            ?? (nfft == AudioHeadConfig.PublishedNFft && win == AudioHeadConfig.PublishedWinLength
                ? AudioHeadConfig.PublishedHopLength
                : throw new InvalidDataException(
                    $"the hop length is not stored in the file and n_fft {nfft} / window {win} are not AudioCLIP's (2048 / 1654, hop 561): give it (--audio-hop / AudioClipLoadOptions.HopLength)"));
        bool norm = normalized ?? (metadata is not null && metadata.TryGetValue("normalized", out var n) ? bool.Parse(n) : true);

        return new AudioHeadConfig
        {
            NFft = nfft,
            HopLength = hop,
            WinLength = win,
            Normalized = norm,
            Bands = bands,
            StemWidth = stemWidth,
            Blocks = blocks,
            Widths = widths,
            Outputs = outputs,
            Groups = groups,
            ApplyAttention = attention,
            AttentionKernels = attention ? kernels : [1, 1, 1, 1, 1],
            AttentionSizes = attention ? sizes : [(3, 1), (1, 5), (3, 1), (1, 5), (3, 5)],
            EmbedDim = embed,
        }.Validate();
    }

    private static int? Meta(IReadOnlyDictionary<string, string>? metadata, string key) =>
        metadata is not null && metadata.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : null;
}
