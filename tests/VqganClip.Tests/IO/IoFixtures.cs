using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Tests.IO;

/// <summary>Paths of the fixture checkpoints and helpers shared by the IO tests.</summary>
internal static class IoFixtures
{
    public static string Dir { get; } = Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string Clip(string file) => Path.Combine(Dir, "clip-vit-tiny", file);

    public static string Vqgan(string file) => Path.Combine(Dir, "vqgan-f16-tiny", file);

    /// <summary>A fresh scratch directory under the test output, removed by the caller's Dispose.</summary>
    public static TempDir NewTempDir() => new();

    /// <summary>True when both tensors have the same dtype, shape and identical bytes.</summary>
    public static bool BitEqual(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var ca = a.contiguous();
        using var cb = b.contiguous();
        if (ca.numel() == 0) return true;
        return ca.bytes.SequenceEqual(cb.bytes);
    }

    public sealed class TempDir : IDisposable
    {
        public TempDir()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vqganclip-io-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
