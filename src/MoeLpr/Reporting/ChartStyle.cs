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

    // Widest chart: fits the report's 1136-px content column and a notebook's output area, so nothing drawn near the
    // right edge (the legend) falls outside what the page shows.
    internal const int MaxWidth = 1100;

    /// <summary>Axis description: title plus optional plotly tick format (e.g. ".0%"), range and log scale.</summary>
    internal sealed record Axis(string Title, string? TickFormat = null, (double Min, double Max)? Range = null,
        bool Log = false);

    internal static GenericChart Apply(GenericChart chart, string title, Axis x, Axis y, int width, int height,
        bool showLegend = true)
    {
        chart = Chart.withXAxis(LinearAxisOf(x), null).Invoke(chart);
        chart = Chart.withYAxis(LinearAxisOf(y), null).Invoke(chart);
        return ApplyFrame(chart, title, width, height, showLegend);
    }

    /// <summary>
    /// Size, font, margins, title and legend, also for charts whose axes are styled elsewhere (subplot grids).
    /// </summary>
    internal static GenericChart ApplyFrame(GenericChart chart, string title, int width, int height, bool showLegend)
    {
        chart = Chart.withTemplate(ChartTemplates.light).Invoke(chart);
        var heading = Text(title, 18);
        heading.SetProperty("x", 0.0); // left-aligned from the chart's left edge: a long title is never cut on the left
        heading.SetProperty("xanchor", "left");
        heading.SetProperty("xref", "container");
        heading.SetProperty("pad", Padding(left: 12));
        chart = Chart.withTitle(heading).Invoke(chart);
        // Wide enough for the title (about 9 px per character at 18 px), never wider than the page shows.
        var fitted = Math.Min(Math.Max(width, 40 + (int)(9.5 * title.Length)), MaxWidth);
        return Chart.withLayout(BaseLayout(fitted, height, showLegend)).Invoke(chart);
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
            linear.SetProperty("range",
                axis.Log ? new[] { Math.Log10(range.Min), Math.Log10(range.Max) } : new[] { range.Min, range.Max });
        return linear;
    }

    static Layout BaseLayout(int width, int height, bool showLegend)
    {
        var layout = new Layout();
        layout.SetProperty("width", width);
        layout.SetProperty("height", height);
        layout.SetProperty("font", FontOf(13));
        layout.SetProperty("showlegend", showLegend);
        if (showLegend)
        {
            // One row above the plot, under the title: inside the chart's width whatever the number of series.
            var legend = new Legend();
            legend.SetProperty("orientation", "h");
            legend.SetProperty("x", 0.0);
            legend.SetProperty("xanchor", "left");
            legend.SetProperty("y", 1.02);
            legend.SetProperty("yanchor", "bottom");
            layout.SetProperty("legend", legend);
        }
        var margin = new Margin();
        margin.SetProperty("l", 70);
        margin.SetProperty("r", 30);
        margin.SetProperty("t", showLegend ? 100 : 70);
        margin.SetProperty("b", 60);
        layout.SetProperty("margin", margin);
        return layout;
    }

    static DynamicObj.DynamicObj Padding(int left)
    {
        var padding = new DynamicObj.DynamicObj();
        padding.SetProperty("l", left);
        return padding;
    }

    static Font FontOf(int size)
    {
        var font = new Font();
        font.SetProperty("family", FontFamily);
        font.SetProperty("size", size);
        return font;
    }
}

/// <summary>Argument-shape checks for chart and view inputs, with messages that name what does not fit.</summary>
internal static class Shape
{
    internal static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
