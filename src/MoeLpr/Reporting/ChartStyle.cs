using Plotly.NET;
using Plotly.NET.LayoutObjects;

namespace MoeLpr.Reporting;

/// <summary>
/// The kit's common chart look: light template, readable font, title, axis titles and size.
/// Plotly.NET 6's F# optional arguments are not optional from C#, so layout objects are built as the dynamic
/// objects they are (<c>SetProperty</c> with plotly.js attribute names) and applied with the F# <c>Chart.with*</c>
/// functions.
/// </summary>
internal static class ChartStyle
{
    const string FontFamily = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif";

    /// <summary>Axis description: title plus optional plotly tick format (e.g. ".0%"), range and log scale.</summary>
    internal sealed record Axis(string Title, string? TickFormat = null, (double Min, double Max)? Range = null, bool Log = false);

    internal static GenericChart Apply(GenericChart chart, string title, Axis x, Axis y, int width, int height, bool showLegend = true)
    {
        chart = Chart.withTemplate(ChartTemplates.light).Invoke(chart);
        chart = Chart.withTitle(Text(title, 18)).Invoke(chart);
        chart = Chart.withXAxis(LinearAxisOf(x), null).Invoke(chart);
        chart = Chart.withYAxis(LinearAxisOf(y), null).Invoke(chart);
        return Chart.withLayout(BaseLayout(width, height, showLegend)).Invoke(chart);
    }

    /// <summary>Size, font, margins and legend for charts whose axes are styled elsewhere (subplot grids).</summary>
    internal static GenericChart ApplyFrame(GenericChart chart, string title, int width, int height, bool showLegend)
    {
        chart = Chart.withTemplate(ChartTemplates.light).Invoke(chart);
        chart = Chart.withTitle(Text(title, 18)).Invoke(chart);
        return Chart.withLayout(BaseLayout(width, height, showLegend)).Invoke(chart);
    }

    internal static Title Text(string text, int size)
    {
        var title = new Title();
        title.SetProperty("text", text);
        title.SetProperty("font", FontOf(size));
        return title;
    }

    internal static LinearAxis LinearAxisOf(Axis axis)
    {
        var linear = new LinearAxis();
        linear.SetProperty("title", Text(axis.Title, 14));
        linear.SetProperty("automargin", true);
        if (axis.TickFormat is not null) linear.SetProperty("tickformat", axis.TickFormat);
        if (axis.Log) linear.SetProperty("type", "log");
        if (axis.Range is { } range)
            linear.SetProperty("range", axis.Log ? new[] { Math.Log10(range.Min), Math.Log10(range.Max) } : new[] { range.Min, range.Max });
        return linear;
    }

    static Layout BaseLayout(int width, int height, bool showLegend)
    {
        var layout = new Layout();
        layout.SetProperty("width", width);
        layout.SetProperty("height", height);
        layout.SetProperty("font", FontOf(13));
        layout.SetProperty("showlegend", showLegend);
        var margin = new Margin();
        margin.SetProperty("l", 70);
        margin.SetProperty("r", 30);
        margin.SetProperty("t", 70);
        margin.SetProperty("b", 60);
        layout.SetProperty("margin", margin);
        return layout;
    }

    static Font FontOf(int size)
    {
        var font = new Font();
        font.SetProperty("family", FontFamily);
        font.SetProperty("size", size);
        return font;
    }
}
