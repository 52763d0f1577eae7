using MoeLpr.Reporting;
using static MoeLpr.Tests.Reporting.ChartJson;

namespace MoeLpr.Tests.Reporting;

public class RoutingChartsTests
{
    static readonly string[] Languages = ["en", "zh", "el", "hu"];

    [Fact]
    public void HeatmapHoldsShareMatrixWithLanguagesAsRowsAndLayersAsColumns()
    {
        double[][] share = [[0.9, 0.8, 0.7], [0.85, 0.75, 0.6], [0.1, 0.2, 0.15], [0.05, 0.3, 0.25]];
        var chart = RoutingCharts.Expert0ShareHeatmap(Languages, [0, 2, 5], share);

        var trace = Assert.Single(Traces(chart));
        Assert.Equal("heatmap", trace.GetProperty("type").GetString());
        Assert.Equal(["layer 0", "layer 2", "layer 5"], Strings(trace.GetProperty("x")));
        Assert.Equal(Languages, Strings(trace.GetProperty("y")));
        var z = trace.GetProperty("z").EnumerateArray().Select(Doubles).ToArray();
        Assert.Equal(share, z);
        Assert.Equal(0.0, trace.GetProperty("zmin").GetDouble());
        Assert.Equal(1.0, trace.GetProperty("zmax").GetDouble());
        var layout = Layout(chart);
        Assert.Contains("expert 0", layout.GetProperty("title").GetProperty("text").GetString());
        Assert.Equal("MoE layer", layout.GetProperty("xaxis").GetProperty("title").GetProperty("text").GetString());
    }

    [Fact]
    public void HeatmapRejectsRowsOfTheWrongLength()
    {
        var error = Assert.Throws<ArgumentException>(
            () => RoutingCharts.Expert0ShareHeatmap(["en", "el"], [0, 1], [[0.5, 0.5], [0.5]]));
        Assert.Contains("'el'", error.Message);
    }

    [Fact]
    public void SelectionShareStacksOneSeriesPerExpertInPaletteColours()
    {
        double[][] share = [[0.7, 0.1, 0.1, 0.1], [0.6, 0.2, 0.1, 0.1], [0.1, 0.3, 0.3, 0.3], [0.2, 0.4, 0.2, 0.2]];
        var chart = RoutingCharts.ExpertSelectionShare(Languages, share);

        var traces = Traces(chart);
        Assert.Equal(4, traces.Length);
        for (var expert = 0; expert < 4; expert++)
        {
            Assert.Equal("bar", traces[expert].GetProperty("type").GetString());
            Assert.Equal(ExpertPalette.LabelOf(expert), traces[expert].GetProperty("name").GetString());
            Assert.Equal(share.Select(row => row[expert]), Doubles(traces[expert].GetProperty("y")));
            Assert.Equal(Languages, Strings(traces[expert].GetProperty("x")));
            Assert.Equal(Rgba(ExpertPalette.ColorOf(expert)),
                traces[expert].GetProperty("marker").GetProperty("color").GetString());
        }
        Assert.Equal("stack", Layout(chart).GetProperty("barmode").GetString());
        Assert.Equal(".0%", Layout(chart).GetProperty("yaxis").GetProperty("tickformat").GetString());
    }

    // Plotly.NET writes colours as rgba(r, g, b, 1.0).
    static string Rgba(string hex) =>
        $"rgba({Convert.ToInt32(hex[1..3], 16)}, {Convert.ToInt32(hex[3..5], 16)}, " +
        $"{Convert.ToInt32(hex[5..7], 16)}, 1.0)";

    [Fact]
    public void ComparisonGroupsOneColumnSeriesPerVariant()
    {
        var chart = RoutingCharts.Expert0ShareComparison(Languages,
            [new NamedSeries("stage 1", [0.4, 0.35, 0.1, 0.12]),
                new NamedSeries("stage 2 (LPR)", [0.92, 0.9, 0.11, 0.1])]);

        var traces = Traces(chart);
        Assert.Equal(["stage 1", "stage 2 (LPR)"], traces.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal([0.92, 0.9, 0.11, 0.1], Doubles(traces[1].GetProperty("y")));
        Assert.Equal(["92.0%", "90.0%", "11.0%", "10.0%"], Strings(traces[1].GetProperty("text")));
        Assert.Equal("group", Layout(chart).GetProperty("barmode").GetString());
        // A top-K membership, not the share of routing decisions (which is at most 1/K for one expert).
        Assert.Equal("tokens with expert 0 in their top-K",
            Layout(chart).GetProperty("yaxis").GetProperty("title").GetProperty("text").GetString());
    }

    [Fact]
    public void ComparisonRejectsSeriesOfTheWrongLength()
    {
        var error = Assert.Throws<ArgumentException>(
            () => RoutingCharts.Expert0ShareComparison(Languages, [new NamedSeries("stage 1", [0.4])]));
        Assert.Contains("stage 1", error.Message);
    }
}
