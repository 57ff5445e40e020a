// References the toolkit built from this clone. Every notebook in this folder starts with the cell
//     #load "toolkit.csx"
// which works unchanged in VS Code (Polyglot Notebooks), Jupyter's .NET kernel and `vqgan-clip notebook run`: the
// kernel starts in the notebook's folder, and #load resolves against it.
//
// Why a script and not two directive lines: the kernel accepts a package source (#i "nuget: ...") only as an
// absolute path ("../packages" is an "Invalid URI"), and where a clone lies is not known in advance. So this script
//   1. finds the repository (the folder above with Toolkit.sln),
//   2. packs the toolkit into <repository>/artifacts/notebook-packages, once per version of the sources: the package
//      version carries a hash of src/ and the build files, so an edited toolkit becomes a new package instead of
//      NuGet's cached copy of the old one (the first run of a clone takes a minute or two),
//   3. submits `#i` with that absolute folder and `#r "nuget: ..."` for each package below; the kernel restores them
//      and runs the package's extension.dib (native-library fix, formatters, live views).
// `vqgan-clip notebook run` carries the toolkit itself (it references the same assemblies up front), so there, as on
// a second run of this cell, the toolkit is already loaded and the script does nothing.

static class ToolkitReference
{
    /// <summary>
    /// The packages a notebook references (each is src/ID/ID.csproj, packed in this order): the toolkit's notebook
    /// views (with Guidance and Models), the clipart world the shipped models know, and its trainers (notebook 07).
    /// Add one here.
    /// </summary>
    public static readonly string[] Packages = ["VqganClip.Notebooks", "VqganClip.Clipart", "VqganClip.Training"];

    public static bool IsLoaded =>
        AppDomain.CurrentDomain.GetAssemblies().Any(a => Packages.Contains(a.GetName().Name, StringComparer.Ordinal));

    public static async System.Threading.Tasks.Task LoadAsync()
    {
        if (IsLoaded) return;
        var root = RepositoryRoot();
        var version = "0.1.0-nb-" + SourceHash(root);
        var source = System.IO.Path.Combine(root, "artifacts", "notebook-packages");
        foreach (var id in Packages)
            if (!System.IO.File.Exists(System.IO.Path.Combine(source, $"{id}.{version}.nupkg")))
                Pack(root, id, version, source);

        var directives = $"#i \"nuget: {source}\"\n" + string.Concat(Packages.Select(id => $"#r \"nuget: {id}, {version}\"\n"));
        await Microsoft.DotNet.Interactive.Kernel.Root.SendAsync(new Microsoft.DotNet.Interactive.Commands.SubmitCode(directives, "csharp"));
        if (!IsLoaded)
            throw new InvalidOperationException($"The toolkit packages ({string.Join(", ", Packages)} {version}) did not load from {source}: see the messages above.");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new System.IO.DirectoryInfo(System.IO.Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "Toolkit.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Toolkit.sln above {System.IO.Directory.GetCurrentDirectory()}: open the notebook from its folder in a clone of the repository.");
    }

    /// <summary>12 hex digits of a SHA-256 over src/ and the build files (paths and contents, bin/ and obj/ left out).</summary>
    private static string SourceHash(string root)
    {
        var files = System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(root, "src"), "*", System.IO.SearchOption.AllDirectories)
            .Concat(System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(root, "build"), "*", System.IO.SearchOption.AllDirectories))
            .Concat(new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" }.Select(f => System.IO.Path.Combine(root, f)))
            .Select(f => System.IO.Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Split('/').Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\n"));
            sha.AppendData(System.IO.File.ReadAllBytes(System.IO.Path.Combine(root, file)));
        }
        return Convert.ToHexString(sha.GetHashAndReset())[..12].ToLowerInvariant();
    }

    private static void Pack(string root, string id, string version, string output)
    {
        Console.WriteLine($"Packing {id} {version} into {output} (once per version of the sources)...");
        var suffix = version[(version.IndexOf('-') + 1)..];
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", ["pack", System.IO.Path.Combine(root, "src", id, id + ".csproj"),
            "-c", "Release", "-o", output, $"-p:VersionSuffix={suffix}", "-nologo", "-v:q"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet pack {id} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }
}

await ToolkitReference.LoadAsync();
