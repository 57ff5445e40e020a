using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Scripting;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// The references and usings notebook cells compile against: the toolkit assemblies the runner itself carries
/// (VqganClip.* and everything they reference, e.g. TorchSharp, Plotly.NET, the formatting library), plus the
/// framework, with the default usings of the .NET Interactive C# kernel.
/// </summary>
internal static class ScriptEnvironment
{
    public static readonly string[] DefaultUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Text", "System.Threading.Tasks",
        "Microsoft.DotNet.Interactive.Formatting",
    ];

    public static ScriptOptions Options(string baseDirectory)
    {
        var assemblies = ToolkitClosure().Concat(AppDomain.CurrentDomain.GetAssemblies())
            .Where(a => !a.IsDynamic && !string.IsNullOrEmpty(a.Location))
            .GroupBy(a => a.GetName().Name, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First());
        return ScriptOptions.Default
            .WithReferences(assemblies.Select(a => MetadataReference.CreateFromFile(a.Location)))
            .WithImports(DefaultUsings)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(baseDirectory))
            .WithSourceResolver(new SourceFileResolver([], baseDirectory))
            .WithEmitDebugInformation(true)
            .WithOptimizationLevel(OptimizationLevel.Debug);
    }

    /// <summary>Loads VqganClip.* from the runner's directory and, transitively, what they reference.</summary>
    private static IEnumerable<Assembly> ToolkitClosure()
    {
        var seen = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        var pending = new Queue<AssemblyName>(
            Directory.EnumerateFiles(AppContext.BaseDirectory, "VqganClip.*.dll").Select(AssemblyName.GetAssemblyName));
        pending.Enqueue(typeof(ScriptGlobals).Assembly.GetName());
        while (pending.TryDequeue(out var name))
        {
            if (name.Name is null || seen.ContainsKey(name.Name)) continue;
            Assembly assembly;
            try { assembly = Assembly.Load(name); }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException) { continue; }
            seen[name.Name] = assembly;
            foreach (var reference in assembly.GetReferencedAssemblies()) pending.Enqueue(reference);
        }
        return seen.Values;
    }
}
