using System.Text.Json;
using Plotly.NET;

namespace MoeLpr.Tests.Reporting;

/// <summary>A chart's plotly figure (data + layout) as JSON, to assert on traces without a browser.</summary>
static class ChartJson
{
    public static JsonElement Figure(GenericChart chart) =>
        JsonDocument.Parse(GenericChart.toFigureJson(chart)).RootElement;

    public static JsonElement[] Traces(GenericChart chart) =>
        Figure(chart).GetProperty("data").EnumerateArray().ToArray();

    public static JsonElement Layout(GenericChart chart) => Figure(chart).GetProperty("layout");

    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();
}
