using Microsoft.DotNet.Interactive.Documents;
using Jupyter = Microsoft.DotNet.Interactive.Documents.Jupyter.Notebook;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// Reads and writes notebooks with Microsoft.DotNet.Interactive.Documents (the library Polyglot Notebooks uses),
/// so executed notebooks carry outputs and metadata exactly as the kernel writes them: kernelspec .net-csharp,
/// language_info C#, per-cell dotnet_interactive / polyglot_notebook metadata.
/// </summary>
public static class NotebookFile
{
    public static KernelInfoCollection Kernels()
    {
        var kernels = new KernelInfoCollection
        {
            new KernelInfo("csharp", "C#", ["c#", "C#", "cs"]),
            new KernelInfo("fsharp", "F#", ["f#", "F#", "fs"]),
            new KernelInfo("pwsh", "PowerShell", ["powershell"]),
            new KernelInfo("javascript", "JavaScript", ["js"]),
            new KernelInfo("html", "HTML", []),
            new KernelInfo("markdown", "Markdown", ["md"]),
        };
        kernels.DefaultKernelName = "csharp";
        return kernels;
    }

    public static InteractiveDocument Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No notebook '{path}'.", path);
        using var stream = File.OpenRead(path);
        try
        {
            return Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".ipynb" => Jupyter.Read(stream, Kernels()),
                ".dib" => CodeSubmission.Read(stream, Kernels()),
                var ext => throw new NotSupportedException($"'{path}': notebooks are .ipynb or .dib files, not '{ext}'."),
            };
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' is not a readable notebook: {e.Message}", e);
        }
    }

    /// <summary>Writes .ipynb (with the Polyglot metadata added where missing) or .dib, by extension.</summary>
    public static void Save(InteractiveDocument document, string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var stream = File.Create(full);
        if (Path.GetExtension(full).Equals(".dib", StringComparison.OrdinalIgnoreCase))
        {
            CodeSubmission.Write(document, stream, Kernels(), "\n");
            return;
        }
        AddPolyglotMetadata(document);
        AddCellIds(document);
        Jupyter.Write(document, stream, Kernels());
    }

    /// <summary>
    /// Gives every cell an id where it has none (a notebook read from a .dib, or built in code). The .ipynb is written as
    /// nbformat 4.5, whose schema requires cell ids; ids the notebook had are kept.
    /// </summary>
    public static void AddCellIds(InteractiveDocument document)
    {
        var used = new HashSet<string>(document.Elements.Select(e => e.Id).OfType<string>(), StringComparer.Ordinal);
        for (int i = 0; i < document.Elements.Count; i++)
        {
            if (!string.IsNullOrEmpty(document.Elements[i].Id)) continue;
            var id = $"cell-{i + 1}";
            while (!used.Add(id)) id += "-" + Guid.NewGuid().ToString("N")[..4];
            document.Elements[i].Id = id;
        }
    }

    /// <summary>The notebook-level metadata Polyglot Notebooks writes, where the document lacks it.</summary>
    public static void AddPolyglotMetadata(InteractiveDocument document)
    {
        var m = document.Metadata;
        if (!m.ContainsKey("kernelspec"))
            m["kernelspec"] = new Dictionary<string, object>
            {
                ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp",
            };
        if (!m.ContainsKey("language_info"))
            m["language_info"] = new Dictionary<string, object>
            {
                ["file_extension"] = ".cs", ["mimetype"] = "text/x-csharp", ["name"] = "C#", ["pygments_lexer"] = "csharp", ["version"] = "13.0",
            };
        if (!m.ContainsKey("polyglot_notebook"))
            m["polyglot_notebook"] = new Dictionary<string, object>
            {
                ["kernelInfo"] = new Dictionary<string, object>
                {
                    ["defaultKernelName"] = "csharp",
                    ["items"] = new object[] { new Dictionary<string, object> { ["aliases"] = Array.Empty<string>(), ["name"] = "csharp" } },
                },
            };
    }
}
