using System.Text.RegularExpressions;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// What the runner changes in a cell before the kernel sees it: only references to the toolkit itself.
/// The runner carries the toolkit and its kernel already references those assemblies, so <c>#r "nuget: VqganClip.*"</c>
/// and <c>#r "…/VqganClip.*.dll"</c> would load a second copy of types the runner's formatters are registered for;
/// those lines become empty lines (so line numbers still match the cell). Everything else, other packages and
/// <c>#i</c> sources included, goes to the kernel unchanged and behaves as in Polyglot Notebooks or Jupyter.
/// </summary>
public static partial class CellDirectives
{
    [GeneratedRegex("""^\s*#r\s+"nuget\s*:\s*(?<name>[^,"\s]+)\s*(,\s*(?<version>[^"]*))?"\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex NugetReference();

    [GeneratedRegex("""^\s*#r\s+"(?<path>[^"]+)"\s*$""")]
    private static partial Regex FileReference();

    public static string Rewrite(string source)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (NugetReference().Match(lines[i]) is { Success: true } nuget && ToolkitAssemblies.IsToolkit(nuget.Groups["name"].Value))
                lines[i] = "";
            else if (FileReference().Match(lines[i]) is { Success: true } file && ToolkitAssemblies.IsToolkit(Path.GetFileNameWithoutExtension(file.Groups["path"].Value)))
                lines[i] = "";
        }
        return string.Join("\n", lines);
    }
}
