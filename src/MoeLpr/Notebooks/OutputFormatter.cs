using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Data.Analysis;
using MoeLpr.Reporting;
using Plotly.NET;

namespace MoeLpr.Notebooks;

/// <summary>
/// Turns a displayed or returned value into a Jupyter mime bundle: charts, DataFrames and anything with a
/// <c>ToHtml()</c> as <c>text/html</c>, everything else as <c>text/plain</c>. The first chart of a run carries
/// plotly.js inline, so the executed notebook renders offline with plotly.js embedded exactly once.
/// </summary>
internal sealed class OutputFormatter
{
    const int MaxListedItems = 100;
    bool _plotlyEmbedded;

    internal JsonObject Format(object? value) => value switch
    {
        null => Plain("null"),
        string text => Plain(text),
        GenericChart chart => Html(ChartHtml(chart)),
        DataFrame frame => new JsonObject
        {
            ["text/html"] = NotebookText.ToLines(DataFrameExport.ToHtmlTable(frame, maxRows: 50)),
            ["text/plain"] = NotebookText.ToLines(frame.ToString()),
        },
        IFormattable formattable => Plain(formattable.ToString(null, CultureInfo.InvariantCulture)),
        _ when ToHtmlMethod(value.GetType()) is { } toHtml => new JsonObject
        {
            ["text/html"] = NotebookText.ToLines((string?)toHtml.Invoke(value, null) ?? ""),
            ["text/plain"] = NotebookText.ToLines(value.ToString() ?? ""),
        },
        IEnumerable items => Plain(ListText(items)),
        _ => Plain(value.ToString() ?? ""),
    };

    string ChartHtml(GenericChart chart)
    {
        var html = GenericChart.toChartHTML(chart);
        if (_plotlyEmbedded) return html;
        _plotlyEmbedded = true;
        return PlotlyJs.InlineScriptTags + html;
    }

    static MethodInfo? ToHtmlMethod(Type type)
    {
        var method = type.GetMethod("ToHtml", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        return method?.ReturnType == typeof(string) ? method : null;
    }

    static string ListText(IEnumerable items)
    {
        var shown = items.Cast<object?>().Take(MaxListedItems + 1).Select(i => i is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : i?.ToString() ?? "null").ToList();
        var more = shown.Count > MaxListedItems ? ", ..." : "";
        return $"[{string.Join(", ", shown.Take(MaxListedItems))}{more}]";
    }

    static JsonObject Plain(string text) => new() { ["text/plain"] = NotebookText.ToLines(text) };

    static JsonObject Html(string html) => new() { ["text/html"] = NotebookText.ToLines(html) };
}
