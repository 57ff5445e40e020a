using System.Diagnostics;
using Xunit.Abstractions;

using VqganClip.Tests.Notebooks;

namespace VqganClip.Training.Tests.Notebooks;

/// <summary>
/// Every notebook in notebooks/ executed by a real Jupyter client, `jupyter nbconvert --execute`, on the .NET kernel of
/// the pinned Microsoft.dotnet-interactive tool, exactly as a user's Run All from a clone: the notebook's own first cell
/// references the toolkit (notebooks/toolkit.csx). The saved notebook must show what
/// <see cref="TeachingNotebookExpectations"/> lists, as the runner's does. No skipping: without Jupyter or the kernel
/// the test fails and says how to install them (.ci/run does).
/// </summary>
[Collection(NotebookCollection.Name)]
public class JupyterNotebookTests
{
    private const string KernelName = ".net-csharp";
    private const string Install = "install them as .ci/run does: apt-get install -y jupyter-nbconvert python3-nbconvert jupyter-client python3-nbclient; dotnet tool restore; dotnet tool run dotnet-interactive jupyter install";
    private readonly ITestOutputHelper _output;

    public JupyterNotebookTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Notebooks() => TeachingNotebookExpectations.Notebooks();

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_runs_in_jupyter_on_the_dotnet_kernel_and_shows_what_it_promises(string name)
    {
        var kernels = Run("jupyter", ["kernelspec", "list"], TestSetup.RepoRoot, TimeSpan.FromMinutes(1));
        Assert.True(kernels.ExitCode == 0, $"jupyter is not installed or does not run ({kernels.Output.Trim()}): {Install}");
        Assert.True(kernels.Output.Contains(KernelName, StringComparison.Ordinal), $"Jupyter has no {KernelName} kernel: {Install}");

        var dir = Path.Combine(Path.GetTempPath(), "vqc-jupyter-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var clock = Stopwatch.StartNew();
        // nbconvert starts the kernel in the notebook's folder, as Jupyter does; the kernel command (dotnet interactive)
        // finds the pinned local tool from there (.config/dotnet-tools.json above it).
        var result = Run("jupyter", ["nbconvert", "--to", "notebook", "--execute", Path.Combine(TeachingNotebookExpectations.Folder, name),
                "--output-dir", dir, $"--ExecutePreprocessor.kernel_name={KernelName}", "--ExecutePreprocessor.timeout=900"],
            TeachingNotebookExpectations.Folder, TimeSpan.FromMinutes(20));
        _output.WriteLine($"{name}: nbconvert {clock.Elapsed.TotalSeconds:0} s, exit {result.ExitCode}");
        Assert.True(result.ExitCode == 0, $"nbconvert failed on {name}:\n{Tail(result.Output)}");

        TeachingNotebookExpectations.AssertExecuted(name, Path.Combine(dir, name));
    }

    private static (int ExitCode, string Output) Run(string file, string[] args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e) { return (-1, $"{file}: {e.Message}"); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{file} {string.Join(' ', args)} did not finish in {timeout}.\n{stderr.Result}");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "…" + text[^6000..];
}
