using System.Globalization;
using System.Text.RegularExpressions;
using MoeLpr.Demo;
using MoeLpr.Reporting;
using MoeLpr.Tests.Data;
using MoeLpr.Tests.Reporting;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Demo;

/// <summary>The demo end to end on the shipped base model and corpus, at the test-only size (a few steps), run once.</summary>
public sealed class TinyDemoRun : IDisposable
{
    readonly TempDirectory temp = new();

    public DemoOptions Options { get; }
    public DemoResult Result { get; }

    public TinyDemoRun()
    {
        Options = new DemoOptions
        {
            BaseModelDir = Path.Combine(DataTestFiles.RepoRoot, "data", "base-model"),
            DatasetInfo = DataTestFiles.DatasetInfo,
            TaskFile = Path.Combine(DataTestFiles.RepoRoot, "data", "tasks", "next_sentence.jsonl"),
            OutputDir = temp.File("demo"),
            Size = DemoSize.Tiny,
            Device = "cpu",
            Threads = 1,
        };
        Result = DemoPipeline.Run(Options, TextWriter.Null);
    }

    public void Dispose() => temp.Dispose();
}

public sealed class DemoPipelineTests(TinyDemoRun run) : IClassFixture<TinyDemoRun>
{
    static readonly string[] Variants = ["base", "full_ft", "lora", "moe_stage1", "moe_lpr"];

    [Fact]
    public void RunsEndToEndAndWritesFiniteResultsAndAnOfflineReport()
    {
        var (options, result) = (run.Options, run.Result);

        var rows = File.ReadAllLines(Path.Combine(options.OutputDir, DemoResultsWriter.ResultsCsv)).Skip(1)
                       .Select(line => Regex.Split(line, ",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")).ToList();
        Assert.Equal(Variants.Length * (DemoLanguages.All.Count + 2), rows.Count);
        Assert.Equal(Variants, rows.Select(r => r[0]).Distinct());
        foreach (var row in rows)
        {
            double perplexity = double.Parse(row[6], CultureInfo.InvariantCulture);
            Assert.True(double.IsFinite(perplexity) && perplexity > 1, $"{row[0]}/{row[2]}: perplexity {row[6]}");
            Assert.True(long.Parse(row[4], CultureInfo.InvariantCulture) > 0, $"{row[0]}/{row[2]}: no tokens scored");
            Assert.InRange(double.Parse(row[7], CultureInfo.InvariantCulture), 0.0, 1.0);
        }
        // The base has never seen the new languages; even a few full fine-tuning steps on them must lower their perplexity.
        double baseNew = result["base"].AveragePerplexity(DemoLanguages.New);
        Assert.True(result["full_ft"].AveragePerplexity(DemoLanguages.New) < baseNew);

        var routing = File.ReadAllLines(Path.Combine(options.OutputDir, DemoResultsWriter.RoutingCsv)).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(2 * DemoLanguages.All.Count * 4, routing.Count); // two MoE models × languages × 4 layers
        Assert.All(routing, r => Assert.InRange(double.Parse(r[5], CultureInfo.InvariantCulture), 0.0, 1.0));

        foreach (var run in Variants.Skip(1))
            Assert.NotEmpty(MetricsFile.Read(Path.Combine(options.OutputDir, DemoPipeline.RunsFolder, run, MetricsFile.FileName)));
        Assert.Contains("| Greek (el, new) |", File.ReadAllText(Path.Combine(options.OutputDir, DemoResultsWriter.ResultsMarkdown)));

        string html = File.ReadAllText(Path.Combine(options.OutputDir, DemoResultsWriter.ReportHtml));
        Assert.DoesNotMatch(@"<script[^>]+src=""?https?:", html);
        Assert.DoesNotMatch(@"<link[^>]+href=""?https?:", html);
        Assert.Contains("Plotly.newPlot", html);
        Assert.Contains("moelpr-routing", html);
        Assert.True(result.ReplayTokens > 0 && result.Stage1Tokens == DemoSize.Tiny.Stage1Steps * DemoSize.Tiny.BatchSize * DemoSize.Tiny.CutoffLen);
    }

    /// <summary>The demo's own report in headless Chromium: no script fails, plotly.js turned every chart into an SVG
    /// plot with drawn traces, and the screenshot is not blank.</summary>
    [SkippableFact]
    public void ReportChartsDrawInHeadlessChromium()
    {
        Skip.If(HeadlessBrowser.FindChromium() is null, "Chromium is not installed (apt-get install chromium); browser rendering check skipped");
        string html = Path.Combine(run.Options.OutputDir, DemoResultsWriter.ReportHtml);
        int charts = Regex.Matches(File.ReadAllText(html), "Plotly.newPlot").Count;
        Assert.True(charts >= 5, $"the report holds only {charts} charts");

        string dom = HeadlessBrowser.RenderedDom(html);
        Assert.True(Regex.Matches(dom, "svg-container\"").Count >= charts, "some charts drew no plot");
        Assert.True(Regex.Matches(dom, "class=\"(trace |hm\")").Count >= charts, "some charts have no drawn trace"); // bars, lines, heatmaps

        var render = HeadlessBrowser.Screenshot(html, Path.Combine(run.Options.OutputDir, "report.png"), width: 1400, height: 4000);
        Assert.Empty(render.ScriptErrors);
        var page = ScreenshotStats.Of(PngImage.Load(render.ScreenshotPath), 0, 0, 1400, 4000);
        Assert.True(page.NonWhiteFraction > 0.05 && page.DistinctColors > 200,
                    $"screenshot looks blank: {page.NonWhiteFraction:P1} non-white, {page.DistinctColors} colours");
    }
}
