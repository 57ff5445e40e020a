using System.Diagnostics;

namespace VqganClip.Tests;

/// <summary>
/// One scratch folder per test process, which every temporary file of the run lands in and which is deleted when
/// the process exits. Tests make their folders with <c>Path.GetTempPath()</c> and <c>Directory.CreateTempSubdirectory</c>;
/// on Unix both read <c>$TMPDIR</c> on every call, so pointing it here catches them all (and the temporary files of the
/// kernels and tools the notebook tests start, which inherit it). Runs share a disk with later runs and with CI:
/// before this, each full run left ~2.5 GB of test folders in /tmp.
/// </summary>
internal static class TestScratch
{
    private const string Prefix = "vqgan-clip-tests-";

    /// <summary>The folder this process's temporary files go to, once <see cref="Claim"/> has run.</summary>
    public static string Root { get; private set; } = Path.GetTempPath();

    /// <summary>Makes this process's scratch folder the temporary folder, and removes folders left by runs that died.</summary>
    public static void Claim()
    {
        var system = Path.GetTempPath();
        RemoveOrphans(system);
        Root = Path.Combine(system, Prefix + Environment.ProcessId);
        Directory.CreateDirectory(Root);
        Environment.SetEnvironmentVariable("TMPDIR", Root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(Root);
    }

    /// <summary>Scratch folders whose process is gone (a run killed before its exit handler ran).</summary>
    internal static void RemoveOrphans(string system)
    {
        foreach (var dir in Directory.EnumerateDirectories(system, Prefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(dir)[Prefix.Length..], out var pid) || IsRunning(pid)) continue;
            TryDelete(dir);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // Best effort: a file a child process still holds open must not fail the run.
    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
