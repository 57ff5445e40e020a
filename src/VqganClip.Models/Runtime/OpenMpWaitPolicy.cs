using System.Runtime.InteropServices;

namespace VqganClip.Models.Runtime;

/// <summary>
/// Bounds how long libtorch's OpenMP threads spin while they wait for work. libtorch's CPU build runs its intra-op
/// pool on OpenMP (the libgomp it ships), whose idle threads busy-wait for 300,000 iterations by default (forever with
/// OMP_WAIT_POLICY=ACTIVE) before they sleep. On a machine whose cores are busy with other work, a spinning thread takes
/// the core the thread it waits for needs, and guidance steps on two threads took 15-30 times as long as on one. Never
/// spinning (OMP_WAIT_POLICY=PASSIVE) fixes that but costs every small operation a wake-up: config C at 2 threads went
/// from 0.021 to 0.032 s a step on a quiet machine, A from 5.5 to 6.4 s. A short spin, <see cref="SpinCount"/>
/// iterations, then sleep, keeps both. 30,000 was not short enough: with both cores busy, 100 steps of the shipped
/// models on 2 threads took 39-51 s against 23 s on 1 thread; with 3,000 they took 28 s (PASSIVE 23-25 s), and on the
/// quiet machine 13.4-13.7 s (30,000: 11.7-14.1 s; PASSIVE 13.0-13.2 s); docs/performance.md, "Threads".
/// libgomp reads these variables once, when it is loaded with libtorch, from the native environment; .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach that on Linux, so libc's setenv()
/// is called, before <see cref="NativeLoader"/> loads libtorch. A wait policy or spin count the user set is kept.
/// </summary>
public static class OpenMpWaitPolicy
{
    public const string Variable = "OMP_WAIT_POLICY";
    public const string SpinVariable = "GOMP_SPINCOUNT";
    /// <summary>Spin iterations before a waiting thread sleeps (libgomp's default is 300,000).</summary>
    public const string SpinCount = "3000";

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    /// <summary>What <see cref="Apply"/> did, for diagnostics.</summary>
    public static string Status { get; private set; } = "not applied";

    /// <summary>The policy libgomp will read, or null when none is set (libgomp then spins a while before sleeping).</summary>
    public static string? Current => Get(Variable);

    private static string? Get(string name) => OperatingSystem.IsLinux() ? Marshal.PtrToStringUTF8(GetEnv(name)) : Environment.GetEnvironmentVariable(name);

    /// <summary>Sets <c>GOMP_SPINCOUNT</c> in the native environment unless a wait policy or spin count is set; true when this call set it.</summary>
    public static bool Apply()
    {
        if (!OperatingSystem.IsLinux()) { Status = "not Linux: left as it is"; return false; }
        try
        {
            if (Current is { Length: > 0 } given) { Status = $"{Variable}={given} (set by the user)"; return false; }
            if (Get(SpinVariable) is { Length: > 0 } spin) { Status = $"{SpinVariable}={spin} (set by the user)"; return false; }
            bool ok = SetEnv(SpinVariable, SpinCount, overwrite: 0) == 0;
            // libgomp takes the variable only when it is loaded; if something loaded it before us, this comes too late
            bool late = File.Exists("/proc/self/maps") && File.ReadAllText("/proc/self/maps").Contains("libgomp", StringComparison.Ordinal);
            Status = !ok ? "setenv failed: OpenMP threads spin while they wait"
                : late ? $"{SpinVariable}={SpinCount} set after libgomp was loaded: no effect in this process"
                : $"{SpinVariable}={SpinCount}: OpenMP threads spin briefly, then sleep while they wait";
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Status = "no libc setenv: left as it is";
            return false;
        }
    }
}
