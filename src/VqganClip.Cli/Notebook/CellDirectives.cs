using System.Text.RegularExpressions;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// The notebook directives of a C# cell, rewritten for the runner. The runner has the toolkit built in, so
/// <c>#r "nuget: VqganClip.*"</c> and <c>#r "…/VqganClip.*.dll"</c> refer to assemblies it has already loaded and are
/// dropped, as are <c>#i</c> package sources and the <c>#!csharp</c> kernel selector. Other NuGet references cannot
/// be fetched by the runner and are an error naming the cell and line. Dropped lines become empty lines so that
/// compiler and stack-trace line numbers still match the cell.
/// </summary>
public static partial class CellDirectives
{
    [GeneratedRegex("""^\s*#r\s+"nuget\s*:\s*(?<name>[^,"\s]+)\s*(,\s*(?<version>[^"]*))?"\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex NugetReference();

    [GeneratedRegex("""^\s*#r\s+"(?<path>[^"]+)"\s*$""")]
    private static partial Regex FileReference();

    [GeneratedRegex("""^\s*#i\s+"[^"]*"\s*$""")]
    private static partial Regex PackageSource();

    [GeneratedRegex("""^\s*#!(?<magic>\S+)""")]
    private static partial Regex Magic();

    private static readonly HashSet<string> KernelSelectors = new(StringComparer.OrdinalIgnoreCase) { "csharp", "c#" };

    /// <summary>The toolkit's own assemblies and packages: what #r lines may name.</summary>
    public static bool IsToolkit(string name) =>
        name.StartsWith("VqganClip", StringComparison.OrdinalIgnoreCase) || name.Equals("vqgan-clip", StringComparison.OrdinalIgnoreCase);

    /// <summary>Rewrites a cell's source; throws <see cref="NotebookCellException"/> for a directive the runner cannot honour.</summary>
    public static string Rewrite(string source, int cellNumber)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (NugetReference().Match(line) is { Success: true } nuget)
            {
                var name = nuget.Groups["name"].Value;
                if (!IsToolkit(name))
                    throw new NotebookCellException(cellNumber, i + 1, line,
                        $"#r \"nuget: {name}\": the notebook runner cannot fetch NuGet packages; only the toolkit's own VqganClip.* packages (built into the runner) can be referenced. Run this notebook in Polyglot Notebooks instead, or remove the reference.",
                        "UnsupportedDirective");
                lines[i] = "";
            }
            else if (FileReference().Match(line) is { Success: true } file)
            {
                if (IsToolkit(Path.GetFileNameWithoutExtension(file.Groups["path"].Value))) lines[i] = "";
            }
            else if (PackageSource().IsMatch(line))
            {
                lines[i] = "";
            }
            else if (Magic().Match(line) is { Success: true } magic)
            {
                if (!KernelSelectors.Contains(magic.Groups["magic"].Value))
                    throw new NotebookCellException(cellNumber, i + 1, line,
                        $"magic command #!{magic.Groups["magic"].Value} is not supported by the notebook runner (it runs C# cells only).",
                        "UnsupportedDirective");
                lines[i] = "";
            }
        }
        return string.Join("\n", lines);
    }
}
