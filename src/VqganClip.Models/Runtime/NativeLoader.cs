// Runs before TorchSharp's own loader (TorchSharp.torch.LoadNativeBackend). That loader asks for "LibTorchSharp"
// by name relative to TorchSharp.dll (NativeLibrary.TryLoad(name, assembly, ...)), which goes through the
// assembly's DllImport resolver; the P/Invokes into LibTorchSharp go through the same resolver. So we load a
// patched copy from our cache folder by full path and hand its handle to that resolver. Its DT_NEEDED
// libraries (libtorch.so, libc10.so, libtorch_cpu.so) are preloaded from where they are, so the loader finds
// them by soname even though the patched copy lives elsewhere.
using System.Reflection;
using System.Runtime.InteropServices;

namespace VqganClip.Models.Runtime;

internal static class NativeLoader
{
    private static readonly string[] Dependencies = { "libc10.so", "libtorch_cpu.so", "libtorch.so" };

    /// <summary>Where the fix stands after <see cref="Apply"/>; shown by <c>TorchRuntime.Describe()</c>.</summary>
    public static string Status { get; private set; } = "not checked";

    public static void Apply(Assembly torchSharp)
    {
        if (!OperatingSystem.IsLinux()) { Status = "not Linux: nothing to do"; return; }
        if (GlibcxxCompat.Disabled) { Status = $"turned off by {GlibcxxCompat.DisableVariable}"; return; }
        if (GlibcxxCompat.SystemRuntimeHasVersion) { Status = $"system {GlibcxxCompat.Library} has {GlibcxxCompat.Version}: nothing to do"; return; }

        var original = FindTorchSharpNative(torchSharp);
        if (original is null) { Status = $"{GlibcxxCompat.TorchSharpNative} not found: left to TorchSharp"; return; }
        if (!GlibcxxCompat.NeedsFix(original)) { Status = $"{original} loads as is"; return; }

        var patched = GlibcxxCompat.PatchedCopy(original);
        foreach (var dep in Dependencies)
        {
            var path = FindSibling(original, torchSharp, dep);
            if (path is not null) NativeLibrary.Load(path);
        }
        var handle = NativeLibrary.Load(patched);
        try
        {
            NativeLibrary.SetDllImportResolver(torchSharp, (name, _, _) =>
                name == "LibTorchSharp" || name == GlibcxxCompat.TorchSharpNative ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set (by a host or a second copy of us); the loaded library is still found by its soname.
        }
        Status = $"loaded patched copy {patched} of {original}";
    }

    private static string? FindTorchSharpNative(Assembly torchSharp)
    {
        foreach (var dir in CandidateDirectories(torchSharp))
        {
            var path = Path.Combine(dir, GlibcxxCompat.TorchSharpNative);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    private static string? FindSibling(string original, Assembly torchSharp, string name)
    {
        var beside = Path.Combine(Path.GetDirectoryName(original)!, name);
        if (File.Exists(beside)) return beside;
        foreach (var dir in CandidateDirectories(torchSharp))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>The folders the .NET host and TorchSharp look in: the host's native search list, the app folder,
    /// beside TorchSharp.dll, and the NuGet package layout (torchsharp/V/lib/net8.0 -> runtimes/linux-x64/native, libtorch-cpu-linux-x64/V/...).</summary>
    private static IEnumerable<string> CandidateDirectories(Assembly torchSharp)
    {
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
            foreach (var d in searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)) yield return d;
        yield return AppContext.BaseDirectory;
        yield return Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native");

        var loc = string.IsNullOrEmpty(torchSharp.Location) ? null : Path.GetDirectoryName(torchSharp.Location);
        if (loc is null) yield break;
        yield return loc;
        yield return Path.Combine(loc, "runtimes", rid, "native");
        var packageHome = Path.GetFullPath(Path.Combine(loc, "..", ".."));      // .../torchsharp/0.107.0
        yield return Path.Combine(packageHome, "runtimes", rid, "native");
        var packagesRoot = Path.GetFullPath(Path.Combine(packageHome, "..", "..")); // .../packages
        if (!Directory.Exists(packagesRoot)) yield break;
        foreach (var pkg in SafeDirectories(packagesRoot, "libtorch-*-" + rid + "*"))
            foreach (var version in SafeDirectories(pkg, "*"))
                yield return Path.Combine(version, "runtimes", rid, "native");
    }

    private static IEnumerable<string> SafeDirectories(string dir, string pattern)
    {
        try { return Directory.GetDirectories(dir, pattern); }
        catch (IOException) { return Array.Empty<string>(); }
        catch (UnauthorizedAccessException) { return Array.Empty<string>(); }
    }
}
