using System.Runtime.InteropServices;

namespace VqganClip.Cli.Benchmarking;

/// <summary>
/// CPU seconds the calling thread has run (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>; null elsewhere). With
/// one torch thread every kernel of a step runs on the calling thread, so this is the step's work without the time it
/// waited for a core: on a shared machine it varies far less than wall time. <c>tools/perf_python_cputime.py</c> reads
/// the same clock for the Python reference.
/// </summary>
public static class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public static double? Seconds
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return null;
            try
            {
                return ClockGetTime(ClockThreadCpuTimeId, out var t) == 0 ? t.Seconds + t.Nanoseconds / 1e9 : null;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }
    }
}
