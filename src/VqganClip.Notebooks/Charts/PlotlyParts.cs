using DynamicObj;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using C = Plotly.NET.CSharp;

namespace VqganClip.Notebooks.Charts;

/// <summary>
/// The Plotly.NET calls the charts share. Plotly.NET's F# API takes F# options, which C# passes as null (None)
/// or <c>FSharpOption.Some</c>; the wrappers here keep those calls in one place.
/// </summary>
internal static class PlotlyParts
{
    /// <summary>A two-button menu (linear | log) that relayouts the y axis: the log-scale toggle of loss charts.</summary>
    public static UpdateMenu LogScaleToggle()
    {
        static UpdateMenuButton Button(string label, string axisType)
        {
            var args = new DynamicObj.DynamicObj();
            args.SetProperty("yaxis.type", axisType);
            return UpdateMenuButton.init(
                Args: FSharpOption<IEnumerable<DynamicObj.DynamicObj>>.Some([args]), Args2: null, Execute: null,
                Label: label, Method: StyleParam.UpdateMethod.Relayout, Name: null, TemplateItemName: null, Visible: null);
        }

        return UpdateMenu.init(
            Active: 0, BGColor: null, BorderColor: null,
            Buttons: FSharpOption<IEnumerable<UpdateMenuButton>>.Some([Button("linear", "linear"), Button("log", "log")]),
            Direction: StyleParam.UpdateMenuDirection.Left, Font: null, Name: null, Pad: null, ShowActive: true,
            TemplateItemName: null, Type: StyleParam.UpdateMenuType.Buttons, Visible: null,
            X: 1.0, XAnchor: StyleParam.XAnchorPosition.Right, Y: 1.18, YAnchor: StyleParam.YAnchorPosition.Top);
    }

    public static GenericChart WithTitle(this GenericChart chart, string title) =>
        Plotly.NET.Chart.withTitle(title, null).Invoke(chart);

    public static GenericChart WithUpdateMenu(this GenericChart chart, UpdateMenu menu) =>
        Plotly.NET.Chart.withUpdateMenu(menu, null).Invoke(chart);

    public static GenericChart WithAxisTitles(this GenericChart chart, string x, string y) =>
        C.GenericChartExtensions.WithYAxisStyle<double, double, string>(
            C.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: x), TitleText: y);

    public static GenericChart Sized(this GenericChart chart, int width, int height) =>
        C.GenericChartExtensions.WithSize(chart, width, height);
}
