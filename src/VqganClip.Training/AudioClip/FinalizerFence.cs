using System.Runtime;

namespace VqganClip.Training.AudioClip;

/// <summary>
/// Runs torch work with the garbage collector held off (environment.md, "a known TorchSharp issue": TorchSharp passes
/// the native handles of temporary <c>Scalar</c>s without keeping them alive, so a collection during a native call can
/// finalize one in use: "Unknown scalar type" or a wrong constant). Reading thousands of WAV files allocates large
/// arrays, which makes collections frequent enough that a caching pass over 2000 clips failed twice in a row. So:
/// collect and run the pending finalizers first, while no native call is in flight, then open a no-GC region for the
/// work. A region that overflows its budget simply ends (a collection may then happen, as without the fence).
/// </summary>
internal static class FinalizerFence
{
    public const long Budget = 128L << 20;

    public static T Run<T>(Func<T> work)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        bool region;
        try { region = GC.TryStartNoGCRegion(Budget); }
        catch (InvalidOperationException) { region = false; }   // already in one
        try
        {
            return work();
        }
        finally
        {
            if (region && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                GC.EndNoGCRegion();
        }
    }

    public static void Run(Action work) => Run(() => { work(); return 0; });
}
