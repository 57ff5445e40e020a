using Microsoft.DotNet.Interactive.Documents;
using VqganClip.Cli.Notebook;

namespace VqganClip.Tests.Notebooks;

/// <summary>Every notebook in notebooks/ runs start to finish through the runner (so the teaching notebooks cannot rot).</summary>
[Collection(NotebookCollection.Name)]
public class TeachingNotebookTests
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(Path.Combine(TestSetup.RepoRoot, "notebooks"), "*.ipynb").Order())
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Notebook_runs_without_errors(string name)
    {
        var path = Path.Combine(TestSetup.RepoRoot, "notebooks", name);
        var document = NotebookFile.Load(path);
        var result = await new NotebookRunner(Path.GetDirectoryName(path)!).RunAsync(document);
        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.DoesNotContain(result.Document.Elements.SelectMany(e => e.Outputs), o => o is ErrorElement);
        Assert.Contains(result.Document.Elements.SelectMany(e => e.Outputs), o => o is DisplayElement or ReturnValueElement);
    }
}
