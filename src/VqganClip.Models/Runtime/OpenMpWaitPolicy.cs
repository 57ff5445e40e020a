using System.Runtime.InteropServices;

namespace VqganClip.Models.Runtime;

/// <summary>
/// Makes libtorch's OpenMP threads sleep instead of spin while they wait for work. libtorch's CPU build runs its
/// intra-op pool on OpenMP (the libgomp it ships), whose idle threads busy-wait by default. On a machine whose cores
/// are busy with other work, a spinning thread takes the core the thread it waits for needs, and guidance steps on
/// two threads took 15-30 times as long as on one (docs/performance.md, "Threads"). With passive waiting two threads
/// were never slower than one there.
/// libgomp reads <c>OMP_WAIT_POLICY</c> once, when it is loaded with libtorch, from the native environment; .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach that on Linux, so libc's setenv()
/// is called, before <see cref="NativeLoader"/> loads libtorch. A value the user already set is kept.
/// </summary>
public static class OpenMpWaitPolicy
{
    public const string Variable = "OMP_WAIT_POLICY";
    public const string Default = "PASSIVE";

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    /// <summary>What <see cref="Apply"/> did, for diagnostics.</summary>
    public static string Status { get; private set; } = "not applied";

    /// <summary>The policy libgomp will read, or null when none is set (libgomp then spins a while before sleeping).</summary>
    public static string? Current => OperatingSystem.IsLinux() ? Marshal.PtrToStringUTF8(GetEnv(Variable)) : Environment.GetEnvironmentVariable(Variable);

    /// <summary>Sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native environment unless it is set; true when this call set it.</summary>
    public static bool Apply()
    {
        if (!OperatingSystem.IsLinux()) { Status = "not Linux: left as it is"; return false; }
        try
        {
            if (Current is { Length: > 0 } given) { Status = $"{Variable}={given} (set by the user)"; return false; }
            bool ok = SetEnv(Variable, Default, overwrite: 0) == 0;
            // libgomp takes the variable only when it is loaded; if something loaded it before us, this comes too late
            bool late = File.Exists("/proc/self/maps") && File.ReadAllText("/proc/self/maps").Contains("libgomp", StringComparison.Ordinal);
            Status = !ok ? "setenv failed: OpenMP threads spin while they wait"
                : late ? $"{Variable}={Default} set after libgomp was loaded: no effect in this process"
                : $"{Variable}={Default}: OpenMP threads sleep while they wait";
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Status = "no libc setenv: left as it is";
            return false;
        }
    }
}
