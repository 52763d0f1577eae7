using System.Globalization;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MoeLpr.Reporting;

/// <summary>One labelled row of values for a grouped chart, e.g. ("stage 2", expert-0 share per language).</summary>
public sealed record NamedSeries(string Name, IReadOnlyList<double> Values);

/// <summary>Grouped vertical columns: categories on x, one coloured column per series within each category.</summary>
internal static class GroupedColumns
{
    // Series colours for model variants; distinct from the expert palette's meaning but equally readable.
    static readonly string[] VariantColors = ["#9aa5b1", "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2",
        "#b279a2", "#eeca3b"];

    internal static GenericChart Create(IReadOnlyList<string> categories, IReadOnlyList<NamedSeries> series,
        string title, ChartStyle.Axis x, ChartStyle.Axis y, bool asPercent)
    {
        Shape.Require(series.Count > 0, "at least one series is needed");
        foreach (var s in series)
            Shape.Require(s.Values.Count == categories.Count,
                $"series '{s.Name}' has {s.Values.Count} values for {categories.Count} categories");

        var columns = series.Select((s, i) => CSharpChart.Column<double, string, string>(
            values: s.Values, Keys: categories.ToArray(), Name: s.Name,
            MarkerColor: Color.fromHex(VariantColors[i % VariantColors.Length]),
            MultiText: s.Values.Select(v => Label(v, asPercent)).ToArray(),
            TextPosition: StyleParam.TextPosition.Outside));
        var chart = CSharpChart.Combine(columns);
        foreach (var trace in chart.GetTraces())
        {
            trace.SetProperty("hovertemplate",
                $"%{{x}}: %{{y:{(asPercent ? ".1%" : ".3f")}}}<extra>%{{fullData.name}}</extra>");
            trace.SetProperty("cliponaxis", false); // a label above a column at the top of the range stays readable
        }
        var layout = new Layout();
        layout.SetProperty("barmode", "group");
        chart = Plotly.NET.Chart.withLayout(layout).Invoke(chart);
        var width = Math.Clamp(300 + 60 * categories.Count * series.Count, 560, ChartStyle.MaxWidth);
        return ChartStyle.Apply(chart, title, x, y, width, 460);
    }

    // Text drawn above each column: one precision for the whole chart, three significant digits (whole numbers
    // from 100 on), so that 5.46, 51.0 and 820 read alike.
    static string Label(double value, bool asPercent) => asPercent
        ? (value * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%"
        : value.ToString(Math.Abs(value) >= 100 ? "0" : Math.Abs(value) >= 10 ? "0.0" : "0.00",
            CultureInfo.InvariantCulture);
}
