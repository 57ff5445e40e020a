using VqganClip.Cli.Commands;

using VqganClip.Tests.Notebooks;

namespace VqganClip.Training.Tests.Notebooks;

/// <summary>
/// Every notebook in notebooks/ runs start to finish through `vqgan-clip notebook run`, and the executed notebook it
/// saves shows what <see cref="TeachingNotebookExpectations"/> lists (the same checks <see cref="JupyterNotebookTests"/>
/// makes on Jupyter's execution). The HTML report is written too and holds one plotly.js.
/// </summary>
[Collection(NotebookCollection.Name)]
public class TeachingNotebookTests
{
    public static TheoryData<string> Notebooks() => TeachingNotebookExpectations.Notebooks();

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Notebook_runs_in_the_runner_and_shows_what_it_promises(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "vqc-teaching-" + Guid.NewGuid().ToString("N")[..8]);
        var executed = new FileInfo(Path.Combine(dir, name));
        var report = new FileInfo(Path.Combine(dir, Path.ChangeExtension(name, ".html")));
        var (console, text) = CliTestConsole.Create(200);
        var exit = await NotebookCommand.RunAsync(new FileInfo(Path.Combine(TeachingNotebookExpectations.Folder, name)), executed, report, console, CancellationToken.None);
        Assert.True(exit == 0, text.ToString());
        TeachingNotebookExpectations.AssertExecuted(name, executed.FullName);
        Assert.True(VqganClip.Notebooks.Charts.PlotlyJs.CountLibraryCopies(File.ReadAllText(report.FullName)) <= 1);
    }
}
