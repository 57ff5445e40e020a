// The policy around ElfVersionNeedPatcher: when does libLibTorchSharp.so need the fix, and where does the
// patched copy go. Used at build time (MSBuild inline task in build/VqganClip.Native.targets) and at run time
// (TorchRuntime, before TorchSharp's own loader runs). Pure System code: MSBuild loads it.
using System.Security.Cryptography;
using System.Text;

namespace VqganClip.Models.Runtime;

/// <summary>Makes TorchSharp's native library loadable on C++ runtimes older than GCC 13's (Debian 12, Ubuntu 22.04).</summary>
public static class GlibcxxCompat
{
    public const string Library = "libstdc++.so.6";
    public const string Version = "GLIBCXX_3.4.32";
    public const string TorchSharpNative = "libLibTorchSharp.so";

    /// <summary>Set to 1/true to turn every part of the fix off (build and run time).</summary>
    public const string DisableVariable = "VQGANCLIP_NO_NATIVE_FIX";

    public static bool Disabled =>
        Environment.GetEnvironmentVariable(DisableVariable) is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase));

    private static bool? _systemHasVersion;

    /// <summary>True when the machine's libstdc++.so.6 defines <see cref="Version"/> (or this is not Linux).</summary>
    public static bool SystemRuntimeHasVersion => _systemHasVersion ??= ProbeSystemRuntime();

    private static bool ProbeSystemRuntime()
    {
        if (!OperatingSystem.IsLinux()) return true;
        var needle = Encoding.ASCII.GetBytes(Version + "\0");
        bool sawAny = false;
        foreach (var dir in LibraryDirectories())
        {
            var path = Path.Combine(dir, Library);
            if (!File.Exists(path)) continue;
            sawAny = true;
            try
            {
                if (File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0) return true;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        // No libstdc++ found where we looked: assume it is modern rather than edit anything.
        return !sawAny;
    }

    private static IEnumerable<string> LibraryDirectories()
    {
        var ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        if (!string.IsNullOrEmpty(ld))
            foreach (var d in ld.Split(':', StringSplitOptions.RemoveEmptyEntries)) yield return d;
        foreach (var d in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
            yield return d;
    }

    /// <summary>True when the file at <paramref name="path"/> demands the version the system lacks.</summary>
    public static bool NeedsFix(string path)
    {
        if (Disabled || SystemRuntimeHasVersion || !File.Exists(path)) return false;
        return ElfVersionNeedPatcher.Requires(File.ReadAllBytes(path), Library, Version, path);
    }

    /// <summary>
    /// Build time: patches <c>libLibTorchSharp.so</c> in an output folder (and its runtimes/*/native subfolders) in place,
    /// atomically, when the machine needs it. Returns the files changed.
    /// </summary>
    public static IReadOnlyList<string> PatchOutputFolder(string folder)
    {
        var changed = new List<string>();
        if (Disabled || SystemRuntimeHasVersion || !Directory.Exists(folder)) return changed;
        foreach (var file in Directory.EnumerateFiles(folder, TorchSharpNative, SearchOption.AllDirectories))
        {
            if (ElfVersionNeedPatcher.PatchFile(file, Library, Version).Changed) changed.Add(file);
        }
        return changed;
    }

    /// <summary>
    /// Run time: returns a patched copy of <paramref name="original"/> in a per-user cache folder (never writing next to
    /// the original, which may be a NuGet cache). Keyed by the original's content hash, so it is made once.
    /// </summary>
    public static string PatchedCopy(string original)
    {
        var bytes = File.ReadAllBytes(original);
        var key = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var dir = Path.Combine(CacheRoot(), key);
        var target = Path.Combine(dir, TorchSharpNative);
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(dir);
        ElfVersionNeedPatcher.Patch(bytes, Library, Version, original);
        ElfVersionNeedPatcher.WriteAtomically(target, bytes);
        return target;
    }

    /// <summary>$VQGANCLIP_NATIVE_CACHE, else $XDG_CACHE_HOME/vqgan-clip/native, else ~/.cache/vqgan-clip/native.</summary>
    public static string CacheRoot()
    {
        var explicitDir = Environment.GetEnvironmentVariable("VQGANCLIP_NATIVE_CACHE");
        if (!string.IsNullOrEmpty(explicitDir)) return explicitDir;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        if (string.IsNullOrEmpty(root) || root == ".cache") root = Path.Combine(Path.GetTempPath(), "vqgan-clip-cache");
        return Path.Combine(root, "vqgan-clip", "native");
    }
}
