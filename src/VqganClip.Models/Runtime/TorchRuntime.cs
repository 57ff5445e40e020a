using System.Runtime.CompilerServices;
using TorchSharp;

namespace VqganClip.Models.Runtime;

/// <summary>
/// The one place that prepares TorchSharp: makes its native library load on every Linux users have
/// (see environment.md), lets its OpenMP threads sleep while they wait, picks the device, sets threads, and seeds every random generator.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;
    private static Exception? _failure;

    /// <summary>Runs the native fix as soon as this assembly is used, so plain TorchSharp calls that follow work too.</summary>
#pragma warning disable CA2255 // A library module initializer on purpose: the fix must run before any TorchSharp call a user writes.
    [ModuleInitializer]
    internal static void OnModuleLoad()
    {
        try { EnsureInitialized(); }
        catch (Exception e) { _failure = e; } // reported by the next explicit EnsureInitialized()
    }
#pragma warning restore CA2255

    /// <summary>Idempotent. Call before the first TorchSharp call (the module initializer already does).</summary>
    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized) return;
            if (_failure is not null)
                throw new InvalidOperationException($"Preparing TorchSharp's native library failed: {_failure.Message} (set {GlibcxxCompat.DisableVariable}=1 to skip the fix).", _failure);
            OpenMpWaitPolicy.Apply();   // before libtorch (and its libgomp) loads: libgomp reads it only then
            NativeLoader.Apply(typeof(torch).Assembly);
            _initialized = true;
            NativeLogLevel.Apply();
            MallocTuning.Apply();
        }
    }

    /// <summary>What the native fix did, for diagnostics (<c>vqgan-clip doctor</c>, notebooks).</summary>
    public static string NativeFixStatus => NativeLoader.Status;

    /// <summary>CUDA when TorchSharp has a working CUDA backend, else CPU.</summary>
    public static torch.Device DefaultDevice
    {
        get
        {
            EnsureInitialized();
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        }
    }

    /// <summary>Parses "cpu", "cuda", "cuda:1" or "auto"/null (= <see cref="DefaultDevice"/>).</summary>
    public static torch.Device ParseDevice(string? name)
    {
        EnsureInitialized();
        if (string.IsNullOrWhiteSpace(name) || name.Equals("auto", StringComparison.OrdinalIgnoreCase)) return DefaultDevice;
        try { return torch.device(name.Trim().ToLowerInvariant()); }
        catch (Exception e) { throw new ArgumentException($"Unknown device '{name}': use cpu, cuda, cuda:N or auto.", nameof(name), e); }
    }

    /// <summary>Sets libtorch's intra-op thread count (0 or less = leave libtorch's default).</summary>
    public static void SetThreads(int threads)
    {
        EnsureInitialized();
        if (threads > 0) torch.set_num_threads(threads);
    }

    public static int Threads
    {
        get { EnsureInitialized(); return torch.get_num_threads(); }
    }

    /// <summary>Seeds torch's global CPU (and CUDA) generators and returns a fresh generator seeded the same way for a run's own use.</summary>
    public static torch.Generator Seed(long seed)
    {
        EnsureInitialized();
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
        return new torch.Generator((ulong)seed);
    }
}
