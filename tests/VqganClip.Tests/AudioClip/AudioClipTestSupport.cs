using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Tests.AudioClip;

/// <summary>The audioclip-tiny fixture: paths, its manifest's framing (the hop is not in the file), loading, comparisons.</summary>
internal static class AudioClipTestSupport
{
    public const string Tiny = "audioclip-tiny";

    public static string Fixture(string name) => TransformerTestSupport.Fixture(Tiny, name);

    public static (double Abs, double Rel) Tolerance => TransformerTestSupport.Tolerance(Tiny);

    public static StateDict Io() => SafeTensors.Read(Fixture("io.safetensors"));

    /// <summary>The manifest's audio_config.hop_length (64).</summary>
    public static int HopLength => TransformerTestSupport.Manifest(Tiny)["audio_config"]!["hop_length"]!.GetValue<int>();

    public static AudioClipModel Load(string file = "AudioCLIP-tiny.pt", bool withClip = true) =>
        AudioClipLoader.Load(Fixture(file), new AudioClipLoadOptions
        {
            HopLength = HopLength,
            LoadClip = withClip,
            // width 32 / 64 gives no text heads: the manifest's transformer_heads
            Clip = new ClipLoadOptions { Hints = new ClipConfigHints { TextHeads = TextHeads } },
        });

    public static int TextHeads => TransformerTestSupport.Manifest(Tiny)["clip_config"]!["transformer_heads"]!.GetValue<int>();

    /// <summary>Asserts within the manifest's tolerance and returns max |ours − ref| for the report.</summary>
    public static double AssertClose(Tensor expected, Tensor actual, string what)
    {
        TransformerTestSupport.AssertClose(expected, actual, what, Tolerance);
        using var d = (expected.to(ScalarType.Float64) - actual.detach().to(ScalarType.Float64)).abs().max();
        return d.item<double>();
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "audioclip-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
