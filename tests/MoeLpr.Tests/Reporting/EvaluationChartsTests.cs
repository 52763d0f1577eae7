using MoeLpr.Reporting;
using static MoeLpr.Tests.Reporting.ChartJson;

namespace MoeLpr.Tests.Reporting;

public class EvaluationChartsTests
{
    [Fact]
    public void PerplexityComparisonGroupsVariantsPerLanguage()
    {
        string[] languages = ["en", "zh", "el"];
        var chart = EvaluationCharts.PerplexityComparison(languages,
            [new NamedSeries("dense", [12.5, 20.25, 310]), new NamedSeries("MoE-LPR", [12.75, 20.5, 45.125])],
            logScale: true);

        var traces = Traces(chart);
        Assert.Equal(["dense", "MoE-LPR"], traces.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal([12.75, 20.5, 45.125], Doubles(traces[1].GetProperty("y")));
        // One precision across the chart: three significant digits, whole numbers from 100 on.
        Assert.Equal(["12.5", "20.3", "310"], Strings(traces[0].GetProperty("text")));
        Assert.Equal(["12.8", "20.5", "45.1"], Strings(traces[1].GetProperty("text")));
        var yaxis = Layout(chart).GetProperty("yaxis");
        Assert.Equal("log", yaxis.GetProperty("type").GetString());
        Assert.Equal("perplexity (log scale)", yaxis.GetProperty("title").GetProperty("text").GetString());
    }

    [Fact]
    public void PerplexityMustBePositive()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            EvaluationCharts.PerplexityComparison(["en"], [new NamedSeries("broken", [double.NaN])]));
        Assert.Contains("broken", error.Message);
    }
}
