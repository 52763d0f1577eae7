using System.Globalization;
using System.Text.RegularExpressions;
using MoeLpr.Demo;
using MoeLpr.Reporting;
using MoeLpr.Tests.Data;
using MoeLpr.Tests.Reporting;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Demo;

/// <summary>
/// <c>moelpr demo --quick</c> end to end through the CLI, on the shipped base model and corpus, run once.
/// </summary>
public sealed class QuickDemoRun : IDisposable
{
    readonly TempDirectory temp = new();

    public string OutputDir { get; }
    public int ExitCode { get; }
    /// <summary>What the command printed: standard output, then standard error.</summary>
    public string Console { get; }

    public QuickDemoRun()
    {
        OutputDir = temp.File("demo");
        var cli = CliRunner.Run("demo", "--quick", "--output", OutputDir, "--device", "cpu",
                            "--base-model", Path.Combine(DataTestFiles.RepoRoot, "data", "base-model"),
                            "--dataset-info", DataTestFiles.DatasetInfo,
                            "--task", Path.Combine(DataTestFiles.RepoRoot, "data", "tasks", "next_sentence.jsonl"));
        (ExitCode, Console) = (cli.ExitCode, cli.Output + cli.Error);
    }

    public void Dispose() => temp.Dispose();
}

public sealed class DemoPipelineTests(QuickDemoRun run) : IClassFixture<QuickDemoRun>
{
    static readonly string[] Variants = ["base", "full_ft", "lora", "moe_stage1", "moe_lpr"];

    [Fact]
    public void RunsEndToEndAndWritesFiniteResultsAndAnOfflineReport()
    {
        Assert.True(run.ExitCode == 0, $"demo --quick failed: {run.Console}");
        Assert.Contains("demo (quick) finished", run.Console);

        var rows = File.ReadAllLines(Path.Combine(run.OutputDir, DemoResultsWriter.ResultsCsv)).Skip(1)
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
        // The base has never seen the new languages; even a few full fine-tuning steps on them must lower their
        // perplexity.
        double NewAverage(string variant) =>
            double.Parse(rows.Single(r => r[0] == variant && r[2] == "new_avg")[6], CultureInfo.InvariantCulture);
        Assert.True(NewAverage("full_ft") < NewAverage("base"));

        var routing = File.ReadAllLines(Path.Combine(run.OutputDir, DemoResultsWriter.RoutingCsv))
            .Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(2 * DemoLanguages.All.Count * 4, routing.Count); // two MoE models × languages × 4 layers
        Assert.All(routing, r => Assert.InRange(double.Parse(r[5], CultureInfo.InvariantCulture), 0.0, 1.0));

        foreach (var variant in Variants.Skip(1))
            Assert.NotEmpty(
                MetricsFile.Read(Path.Combine(run.OutputDir, DemoPipeline.RunsFolder, variant, MetricsFile.FileName)));
        var quick = DemoSize.Quick;
        string markdown = File.ReadAllText(Path.Combine(run.OutputDir, DemoResultsWriter.ResultsMarkdown));
        Assert.Contains("| Greek (el, new) |", markdown);
        Assert.Contains(string.Format(CultureInfo.InvariantCulture, "the same {0:N0} new-language tokens",
            quick.Stage1Steps * quick.BatchSize * quick.CutoffLen), markdown);
        var replay = Regex.Match(markdown, @"Old-language replay: ([\d,]+) distinct tokens");
        Assert.True(replay.Success && long.Parse(replay.Groups[1].Value, NumberStyles.AllowThousands,
            CultureInfo.InvariantCulture) > 0, "no old-language replay reported");

        string html = File.ReadAllText(Path.Combine(run.OutputDir, DemoResultsWriter.ReportHtml));
        Assert.DoesNotMatch(@"<script[^>]+src=""?https?:", html);
        Assert.DoesNotMatch(@"<link[^>]+href=""?https?:", html);
        Assert.Contains("Plotly.newPlot", html);
        Assert.Contains("moelpr-routing", html);
    }

    /// <summary>
    /// Every run folder carries the tokenizer, so each output evaluates with no <c>--tokenizer</c>: the full fine-tune
    /// as a model folder, the LoRA and MoE runs as adapters on the base.
    /// </summary>
    [Fact]
    public void EveryRunFolderEvaluatesOnItsOwn()
    {
        Assert.True(run.ExitCode == 0, $"demo --quick failed: {run.Console}");
        string runs = Path.Combine(run.OutputDir, DemoPipeline.RunsFolder);
        string baseModel = Path.Combine(DataTestFiles.RepoRoot, "data", "base-model");
        foreach (var variant in Variants.Skip(1))
            Assert.True(File.Exists(Path.Combine(runs, variant, "tokenizer.json")), $"{variant}: no tokenizer.json");
        string[] Eval(params string[] model) =>
        [
            "eval", .. model, "--dataset", "el_test", "--dataset-info", DataTestFiles.DatasetInfo, "--max-samples", "2",
            "--cutoff-len", "64", "--device", "cpu",
        ];
        foreach (var args in new[]
                 {
                     Eval("--model", Path.Combine(runs, "full_ft")),
                     Eval("--model", baseModel, "--adapter", Path.Combine(runs, "lora")),
                     Eval("--model", baseModel, "--adapter", Path.Combine(runs, "moe_lpr")),
                 })
        {
            var eval = CliRunner.Run(args);
            Assert.True(eval.ExitCode == 0, $"{string.Join(' ', args)}: {eval.Error}");
            Assert.Contains("el_test", eval.Output);
        }
    }

    /// <summary>The demo's own report in headless Chromium: no script fails, plotly.js turned every chart into an SVG
    /// plot with drawn traces, and the screenshot is not blank.</summary>
    [SkippableFact]
    public void ReportChartsDrawInHeadlessChromium()
    {
        Skip.If(HeadlessBrowser.FindChromium() is null,
            "Chromium is not installed (apt-get install chromium); browser rendering check skipped");
        string html = Path.Combine(run.OutputDir, DemoResultsWriter.ReportHtml);
        int charts = Regex.Matches(File.ReadAllText(html), "Plotly.newPlot").Count;
        Assert.True(charts >= 5, $"the report holds only {charts} charts");

        string dom = HeadlessBrowser.RenderedDom(html);
        Assert.True(Regex.Matches(dom, "svg-container\"").Count >= charts, "some charts drew no plot");
        // bars, lines, heatmaps
        Assert.True(Regex.Matches(dom, "class=\"(trace |hm\")").Count >= charts, "some charts have no drawn trace");

        var render = HeadlessBrowser.Screenshot(html, Path.Combine(run.OutputDir, "report.png"),
            width: 1400, height: 4000);
        Assert.Empty(render.ScriptErrors);
        var page = ScreenshotStats.Of(render.ScreenshotPath, 0, 0, 1400, 4000).Region;
        Assert.True(page.NonWhiteFraction > 0.05 && page.DistinctColors > 200,
                    $"screenshot looks blank: {page.NonWhiteFraction:P1} non-white, {page.DistinctColors} colours");
    }
}
