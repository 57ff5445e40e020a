using System.Globalization;
using System.Text.Json;

namespace VqganClip.Models.StyleGan2;

/// <summary>
/// What rosinality's <c>Generator(size, style_dim, n_mlp, channel_multiplier, blur_kernel, lr_mlp)</c> is built from,
/// with the channel table spelled out per resolution (4, 8, ..., size) so that any table the weights describe can
/// be built, not only upstream's {4..32: 512, 64: 256·cm, 128: 128·cm, 256: 64·cm, 512: 32·cm, 1024: 16·cm}.
/// </summary>
public sealed partial record StyleGan2Config
{
    public StyleGan2Config(int size, int styleDim, int nMlp, IReadOnlyList<int> channels, double lrMlp = 0.01, IReadOnlyList<int>? blurKernel = null)
    {
        Size = size;
        StyleDim = styleDim;
        NMlp = nMlp;
        Channels = channels.ToArray();
        LrMlp = lrMlp;
        BlurKernel = (blurKernel ?? [1, 3, 3, 1]).ToArray();
    }

    /// <summary>Side of the generated image (a power of two, at least 8).</summary>
    public int Size { get; }

    /// <summary>Length of z and w (512 in the published models).</summary>
    public int StyleDim { get; }

    /// <summary>EqualLinear layers of the mapping network (8 published).</summary>
    public int NMlp { get; }

    /// <summary>Channels at 4, 8, ..., <see cref="Size"/> px (index log2(res) − 2).</summary>
    public IReadOnlyList<int> Channels { get; }

    /// <summary>The mapping network's learning-rate multiplier (upstream's lr_mlp, 0.01); not recorded in the weights.</summary>
    public double LrMlp { get; }

    /// <summary>The 1-D FIR taps of the blur/upsample filter ([1, 3, 3, 1]).</summary>
    public IReadOnlyList<int> BlurKernel { get; }

    /// <summary>log2(size).</summary>
    public int LogSize => (int)Math.Round(Math.Log2(Size));

    /// <summary>Rows of a W+ code: 2·log2(size) − 2 (18 at 1024).</summary>
    public int NLatent => LogSize * 2 - 2;

    /// <summary>Styled convolutions, one noise input each: 2·(log2(size) − 2) + 1 (17 at 1024).</summary>
    public int NumLayers => (LogSize - 2) * 2 + 1;

    /// <summary>Channels at resolution <paramref name="resolution"/> (4, 8, ..., size).</summary>
    public int ChannelsAt(int resolution) => Channels[(int)Math.Round(Math.Log2(resolution)) - 2];

    /// <summary>Upstream's channel table for a published config-f model (channel_multiplier 2, style 512, n_mlp 8).</summary>
    public static StyleGan2Config Published(int size, int channelMultiplier = 2, int styleDim = 512, int nMlp = 8)
    {
        var table = new Dictionary<int, int>
        {
            [4] = 512, [8] = 512, [16] = 512, [32] = 512, [64] = 256 * channelMultiplier, [128] = 128 * channelMultiplier,
            [256] = 64 * channelMultiplier, [512] = 32 * channelMultiplier, [1024] = 16 * channelMultiplier,
        };
        if (!table.ContainsKey(size) || size < 8)
            throw new ArgumentOutOfRangeException(nameof(size), $"published StyleGAN2 sizes are 8..1024, powers of two (got {size}).");
        var channels = new List<int>();
        for (int res = 4; res <= size; res *= 2) channels.Add(table[res]);
        return new StyleGan2Config(size, styleDim, nMlp, channels);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value that cannot describe a generator.</summary>
    public void Validate()
    {
        if (Size < 8 || (Size & (Size - 1)) != 0) throw new ArgumentException($"StyleGAN2 size must be a power of two of at least 8 (got {Size}).");
        if (StyleDim <= 0) throw new ArgumentException($"style_dim must be positive (got {StyleDim}).");
        if (NMlp < 1) throw new ArgumentException($"n_mlp must be at least 1 (got {NMlp}).");
        if (Channels.Count != LogSize - 1) throw new ArgumentException($"a {Size}-px generator needs {LogSize - 1} channel counts (4..{Size} px), got {Channels.Count}.");
        if (Channels.Any(c => c <= 0)) throw new ArgumentException("every channel count must be positive.");
        if (!(LrMlp > 0)) throw new ArgumentException($"lr_mlp must be positive (got {LrMlp}).");
        if (BlurKernel.Count < 2) throw new ArgumentException("the blur kernel needs at least two taps.");
    }

    /// <summary>The JSON stored in the toolkit's safetensors exports (metadata key <see cref="StyleGan2CheckpointLayout.ConfigMetadataKey"/>).</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        size = Size, style_dim = StyleDim, n_mlp = NMlp, channels = Channels, lr_mlp = LrMlp, blur_kernel = BlurKernel,
    });

    /// <summary>Reads <see cref="ToJson"/>'s form; <paramref name="where"/> names the source in errors.</summary>
    public static StyleGan2Config FromJson(string json, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            int Int(string key) => root.TryGetProperty(key, out var v) && v.TryGetInt32(out var i) ? i : throw new FormatException($"{where}: StyleGAN2 config has no integer '{key}'.");
            int[] Ints(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array
                ? v.EnumerateArray().Select(e => e.GetInt32()).ToArray()
                : throw new FormatException($"{where}: StyleGAN2 config has no list '{key}'.");
            double lr = root.TryGetProperty("lr_mlp", out var l) ? l.GetDouble() : 0.01;
            return new StyleGan2Config(Int("size"), Int("style_dim"), Int("n_mlp"), Ints("channels"), lr, Ints("blur_kernel"));
        }
        catch (JsonException e)
        {
            throw new FormatException($"{where}: StyleGAN2 config is not JSON: {e.Message}", e);
        }
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"StyleGAN2 {Size}px, style {StyleDim}, n_mlp {NMlp}, channels [{string.Join(", ", Channels)}], lr_mlp {LrMlp}");
}
