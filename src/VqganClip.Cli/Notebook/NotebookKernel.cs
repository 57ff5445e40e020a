using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// The kernel a notebook runs in: the .NET Interactive C# kernel composed as the dotnet-interactive tool composes it
/// (Polyglot Notebooks and Jupyter's .NET kernel): <c>#r "nuget: …"</c> and <c>#i</c> package management, the kernel
/// helpers (<c>display(x)</c> through <c>using static Microsoft.DotNet.Interactive.Kernel</c>), value sharing and
/// <c>#!who</c>, the C# kernel's default usings (System, Collections, Linq, Text, Tasks: not System.IO, as in the tool),
/// <c>#!import</c>. One addition: the toolkit the runner carries is referenced up front (see <see cref="CellDirectives"/>).
/// </summary>
internal sealed class NotebookKernel : IDisposable
{
    private NotebookKernel(CompositeKernel root, CSharpKernel csharp) => (Root, CSharp) = (root, csharp);

    public CompositeKernel Root { get; }
    public CSharpKernel CSharp { get; }

    public static NotebookKernel Create()
    {
        var csharp = new CSharpKernel()
            // The tool also runs the extensions of packages it restores; the runner's only extension is the toolkit's,
            // which it applies itself (RunAsync), so restored packages just become references.
            .UseNugetDirective((_, _) => Task.CompletedTask)
            .UseKernelHelpers()
            .UseWho()
            .UseValueSharing();
        csharp.AddAssemblyReferences(ToolkitAssemblies.Paths());

        var root = new CompositeKernel();
        root.Add(csharp, ["c#", "C#"]);
        root.DefaultKernelName = csharp.Name;
        root.UseImportMagicCommand();
        return new NotebookKernel(root, csharp);
    }

    /// <summary>
    /// Runs the toolkit package's extension.dib (copied beside the runner) in the C# kernel, as the kernel does for a
    /// package it loads: the native-library fix, the formatters, the live views' publisher.
    /// </summary>
    public async Task RunToolkitExtensionAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "extension.dib");
        foreach (var cell in NotebookFile.Load(path).Elements)
        {
            var result = await Root.SendAsync(new SubmitCode(cell.Contents, CSharp.Name), cancellationToken);
            if (result.Events.OfType<CommandFailed>().FirstOrDefault() is { } failed)
                throw new InvalidOperationException($"The toolkit's extension script {path} failed: {failed.Message}");
        }
    }

    public void Dispose() => Root.Dispose();
}
