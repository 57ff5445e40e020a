using System.Globalization;

namespace VqganClip.Cli.Benchmarking;

/// <summary>Resident memory of this process from Linux's /proc/self/status (VmRSS now, VmHWM the peak); -1 elsewhere.</summary>
public static class ProcessMemory
{
    public static double ResidentMb => ReadKb("VmRSS:") / 1024.0;

    public static double PeakResidentMb => ReadKb("VmHWM:") / 1024.0;

    /// <summary>Resets VmHWM to the current resident set (Linux: 5 written to /proc/self/clear_refs), so a pass can report its own peak.</summary>
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static long ReadKb(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return -1024;
    }
}
