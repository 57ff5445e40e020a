using VqganClip.Notebooks.Charts;

namespace VqganClip.Notebooks;

/// <summary>
/// One notebook output that is redrawn in place: <c>var view = LiveView.Show(run.View());</c> then
/// <c>view.Update(run.View())</c> (or <c>run.StepLive(200, every: 10, view.Update)</c>).
/// The kernel's own handle (<c>display(x).Update(y)</c>) cannot be used for this: in Microsoft.DotNet.Interactive
/// 1.0.0-beta.26120.1 the handle's id differs from the id of the output it created, so Jupyter (and nbconvert) drop every
/// update and the saved notebook keeps the first picture. The kernel side is <see cref="Publisher"/>, which the package's
/// extension.dib sets: it publishes the display and its updates under one id, as Jupyter and Polyglot Notebooks expect.
/// </summary>
public sealed class LiveView
{
    private bool _carriesPlotlyJs;

    private LiveView(object value) => Value = value;

    /// <summary>Publishes a display (isUpdate false) or replaces the display with that id (true). Null outside a kernel.</summary>
    public static Action<string, object, bool>? Publisher { get; set; }

    /// <summary>The id the output is published under.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>What the output shows now.</summary>
    public object Value { get; private set; }

    /// <summary>Shows a value as a new output of the running cell.</summary>
    public static LiveView Show(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var view = new LiveView(value);
        view.Publish(value, isUpdate: false);
        return view;
    }

    /// <summary>Redraws the output with a new value.</summary>
    public void Update(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value;
        Publish(value, isUpdate: true);
    }

    /// <summary>
    /// Publishes through <see cref="Publisher"/>. When this output carried plotly.js (it held the first chart of the
    /// session) its replacement must carry it too, or the saved notebook ends with no copy and every chart draws blank
    /// offline; the views' values are new objects each time, so the chart's own bookkeeping cannot know.
    /// </summary>
    private void Publish(object value, bool isUpdate)
    {
        if (Publisher is not { } publish) return;
        if (_carriesPlotlyJs) PlotlyJs.IncludeInNextChart();
        long before = PlotlyJs.CopiesEmitted;
        publish(Id, value, isUpdate);
        _carriesPlotlyJs = PlotlyJs.CopiesEmitted > before;
    }
}
