using System.Reflection;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// The toolkit as the runner carries it: VqganClip.* from the runner's own folder and, transitively, what they
/// reference (TorchSharp, SkiaSharp, Plotly.NET, the formatting library, ...). The runner's C# kernel references
/// exactly these files, so notebook cells use the same assemblies (and the same formatter registrations) as the runner.
/// </summary>
internal static class ToolkitAssemblies
{
    /// <summary>Whether a reference (package id or assembly file name) names one of the toolkit's own assemblies.</summary>
    public static bool IsToolkit(string name) =>
        name.StartsWith("VqganClip", StringComparison.OrdinalIgnoreCase) || name.Equals("vqgan-clip", StringComparison.OrdinalIgnoreCase);

    /// <summary>The files of the toolkit closure, loaded into this process as a side effect.</summary>
    public static IReadOnlyList<string> Paths()
    {
        var seen = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        var pending = new Queue<AssemblyName>(
            Directory.EnumerateFiles(AppContext.BaseDirectory, "VqganClip.*.dll").Select(AssemblyName.GetAssemblyName));
        while (pending.TryDequeue(out var name))
        {
            if (name.Name is null || seen.ContainsKey(name.Name)) continue;
            Assembly assembly;
            try { assembly = Assembly.Load(name); }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException) { continue; }
            seen[name.Name] = assembly;
            foreach (var reference in assembly.GetReferencedAssemblies()) pending.Enqueue(reference);
        }
        return seen.Values.Where(a => !a.IsDynamic && !string.IsNullOrEmpty(a.Location)).Select(a => a.Location).ToList();
    }
}
