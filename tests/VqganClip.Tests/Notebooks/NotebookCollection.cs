namespace VqganClip.Tests.Notebooks;

/// <summary>
/// The notebook tests share process-wide state (the Formatter registry, plotly.js inclusion, Console redirection
/// by the runner), so they run one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class NotebookCollection
{
    public const string Name = "Notebooks (shared formatter state)";
}
