using System.Globalization;

namespace VqganClip.Models.Runtime;

/// <summary>The memory a new allocation can get without swapping: Linux's MemAvailable (/proc/meminfo).</summary>
public static class AvailableMemory
{
    /// <summary>Bytes available now, or null where /proc/meminfo is absent or unreadable (not Linux).</summary>
    public static long? Bytes()
    {
        try
        {
            return File.Exists("/proc/meminfo") ? Parse(File.ReadLines("/proc/meminfo")) : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The MemAvailable line of /proc/meminfo ("MemAvailable:   12345 kB") in bytes, or null when there is none.</summary>
    public static long? Parse(IEnumerable<string> meminfo)
    {
        foreach (var line in meminfo)
        {
            if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
            var parts = line["MemAvailable:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1] == "kB" && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
                return kb * 1024;
        }
        return null;
    }
}
