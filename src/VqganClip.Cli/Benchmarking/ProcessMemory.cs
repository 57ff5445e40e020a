using System.Globalization;

namespace VqganClip.Cli.Benchmarking;

/// <summary>Resident memory of this process from Linux's /proc/self/status (VmRSS now, VmHWM the peak); -1 elsewhere.</summary>
public static class ProcessMemory
{
    public static double ResidentMb => ReadKb("VmRSS:") / 1024.0;

    public static double PeakResidentMb => ReadKb("VmHWM:") / 1024.0;

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
