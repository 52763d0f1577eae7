using System.Text.RegularExpressions;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Reporting;

public class HtmlReportTests
{
    [Fact]
    public void ReportInlinesPlotlyJsOnceAndReferencesNoExternalScript()
    {
        var html = SampleReport.Build().ToHtml();

        Assert.Single(Regex.Matches(html, Regex.Escape($"plotly.js v{PlotlyJs.Version}")));
        Assert.DoesNotMatch(new Regex("<script[^>]*\\bsrc\\s*=", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("cdn.plot.ly/plotly", html);
        Assert.DoesNotContain("require(", html.Replace(PlotlyJs.Source, ""));
        // Every chart is drawn directly with Plotly.newPlot into its own div, after plotly.js is defined.
        Assert.Equal(5, Regex.Matches(html, @"Plotly\.newPlot\(").Count -
            Regex.Matches(PlotlyJs.Source, @"Plotly\.newPlot\(").Count);
        Assert.True(html.IndexOf(PlotlyJs.Source, StringComparison.Ordinal) < html.IndexOf("renderPlotly_",
            StringComparison.Ordinal));
    }

    [Fact]
    public void ReportHasSectionsInOrderWithEscapedTextAndTables()
    {
        var html = SampleReport.Build().ToHtml();
        var body = html[html.IndexOf("<main>", StringComparison.Ordinal)..];

        Assert.Contains("<title>MoE-LPR sample report</title>", html);
        Assert.Contains("&lt;the frozen original&gt;", body);
        Assert.DoesNotContain("<the frozen original>", body);
        int routing = body.IndexOf(">Routing</h2>", StringComparison.Ordinal),
            training = body.IndexOf(">Training</h2>", StringComparison.Ordinal),
            evaluation = body.IndexOf(">Evaluation</h2>", StringComparison.Ordinal);
        Assert.True(routing > 0 && routing < training && training < evaluation);
        Assert.Contains("<a href=\"#section-1\">Routing</a>", body);
        Assert.Contains("<caption>Perplexity per language</caption>", body);
        Assert.Contains("<th>MoE-LPR</th>", body);
        Assert.Contains("<td class=\"num\">41</td>", body);
        Assert.Contains("class=\"moelpr-routing\"", body);
    }

    [Fact]
    public void ReportWithoutChartsCarriesNoPlotlyJs()
    {
        var html = new HtmlReport("Tables only")
            .AddHeading("Numbers").AddTable(["a", "b"], [[1, "x"], [2.5, null]]).ToHtml();
        Assert.DoesNotContain(PlotlyJs.Source[..200], html);
        Assert.Contains("<td class=\"num\">2.5</td><td></td>", html);
    }

    [Fact]
    public void SaveWritesTheDocumentCreatingFolders()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("moelpr-report-").FullName, "nested", "report.html");
        new HtmlReport("Saved").AddParagraph("hello").Save(path);
        Assert.Contains("<p>hello</p>", File.ReadAllText(path));
    }

    [Fact]
    public void PlotlyJsIsTheEmbeddedFullBundle()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", PlotlyJs.Version);
        Assert.True(PlotlyJs.Source.Length > 1_000_000);
        Assert.Contains("window.define = undefined", PlotlyJs.InlineScriptTags);
    }
}
