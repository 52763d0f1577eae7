using System.Globalization;
using MoeLpr.Evaluation;
using MoeLpr.Reporting;
using MoeLpr.Training;

namespace MoeLpr.Demo;

/// <summary>
/// The demo's self-contained offline HTML report (plotly.js inlined by <see cref="HtmlReport"/>): setup, the perplexity
/// table and chart, the checks, training curves of every run, expert-0 share heatmaps after stage 1 and after
/// stage 2, expert selection per language, and the token-level routing of an English and a Greek sentence.
/// </summary>
internal static class DemoReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static HtmlReport Build(DemoResult result)
    {
        var report = new HtmlReport("MoE-LPR small-scale replication");
        report.AddParagraph("A dense LLaMA that knows English, Spanish and Chinese is extended to Greek, Hungarian " +
                            "and Turkish. Baselines (full fine-tuning, LoRA) and MoE stage 1 see the same " +
                            "new-language tokens; MoE-LPR adds stage 2, which trains only the routers with the " +
                            "language-prior loss on a small old-language replay.");

        report.AddHeading("Setup");
        foreach (var line in DemoResultsWriter.SetupLines(result)) report.AddParagraph(line.Replace("`", ""));

        report.AddHeading("Perplexity per language");
        var headers = new List<string> { "language" };
        headers.AddRange(result.Variants.Select(v => v.Label));
        var rows = DemoLanguages.All.Select(l => (IReadOnlyList<object?>)
                [$"{DemoLanguages.Name(l)} ({(DemoLanguages.IsOld(l) ? "old" : "new")})",
                    .. result.Variants.Select(v => (object?)Math.Round(v.PerplexityOf(l), 2))]).ToList();
        rows.Add(["old avg",
            .. result.Variants.Select(v => (object?)Math.Round(v.AveragePerplexity(DemoLanguages.Old), 2))]);
        rows.Add(["new avg",
            .. result.Variants.Select(v => (object?)Math.Round(v.AveragePerplexity(DemoLanguages.New), 2))]);
        report.AddTable(headers, rows, "Test-split perplexity (lower is better)");
        var groups = new[] { "old avg", "new avg" }.Concat(DemoLanguages.All).ToList();
        var series = result.Variants.Select(v => new NamedSeries(v.Label,
            [v.AveragePerplexity(DemoLanguages.Old), v.AveragePerplexity(DemoLanguages.New),
                .. DemoLanguages.All.Select(v.PerplexityOf)])).ToList();
        report.AddChart(EvaluationCharts.PerplexityComparison(groups, series, logScale: true));

        if (result.Variants[0].TaskAccuracy.Count > 0)
        {
            var accuracyRows = DemoLanguages.All.Select(l => (IReadOnlyList<object?>)
                    [$"{DemoLanguages.Name(l)} ({(DemoLanguages.IsOld(l) ? "old" : "new")})",
                        .. result.Variants.Select(v => (object?)Math.Round(v.TaskAccuracy[l], 2))]).ToList();
            accuracyRows.Add(["old avg",
                .. result.Variants.Select(v => (object?)Math.Round(v.AverageAccuracy(DemoLanguages.Old), 3))]);
            accuracyRows.Add(["new avg",
                .. result.Variants.Select(v => (object?)Math.Round(v.AverageAccuracy(DemoLanguages.New), 3))]);
            report.AddTable(headers, accuracyRows, $"Next-sentence multiple choice, zero-shot acc_norm (" +
                $"{result.Options.Size.TaskItemsPerLanguage?.ToString(Inv) ?? "all"} items per language, chance 0.25)");
        }

        report.AddHeading("Does it reproduce the paper's ordering?");
        foreach (var check in DemoFindings.Evaluate(result))
            report.AddParagraph($"{(check.Holds ? "✔" : "✘")} {check.Claim}: {check.Evidence}.");
        var sizes = result.Variants.Select(v => (IReadOnlyList<object?>)
                [v.Label, v.TotalParameters, v.ActiveParameters, v.TrainableParameters,
                 Math.Round(v.TrainingTime.TotalSeconds, 1)]).ToList();
        report.AddTable(["model", "total params", "active params", "trained params", "training s"],
            sizes, "Model sizes");

        report.AddHeading("Training curves");
        foreach (var v in result.Variants.Where(v => v.RunDir is not null))
        {
            string metrics = Path.Combine(v.RunDir!, MetricsFile.FileName);
            if (!File.Exists(metrics)) continue;
            report.AddHeading(v.Label, 3);
            report.AddChart(
                TrainingCharts.Curves(TrainingMetricsLog.Load(metrics), title: $"{v.Label}: training curves"));
        }

        report.AddHeading("Where the routers send each language");
        var layers = result.Routing.Values.First().Counts.Select(c => c.Layer).Distinct().Order().ToList();
        var languages = DemoLanguages.All.Select(l => $"{l} ({(DemoLanguages.IsOld(l) ? "old" : "new")})").ToList();
        foreach (var (key, title) in new[] { ("moe_stage1", "after stage 1 (before stage 2)"),
            ("moe_lpr", "after stage 2 (MoE-LPR)") })
            if (result.Routing.TryGetValue(key, out var statistics))
                report.AddChart(RoutingCharts.Expert0ShareHeatmap(languages, layers,
                                                                  DemoResultsWriter.Expert0Share(statistics),
                                                                  $"Share of tokens with expert 0 in their " +
                                                                  $"top-{result.Options.TopK}, {title}"));
        if (result.Routing.TryGetValue("moe_stage1", out var before) &&
            result.Routing.TryGetValue("moe_lpr", out var after))
            report.AddChart(RoutingCharts.Expert0ShareComparison(languages,
                [new NamedSeries("stage 1", MeanOverLayers(before)),
                    new NamedSeries("stage 2 (MoE-LPR)", MeanOverLayers(after))],
                "Expert-0 share per language (mean over layers), before and after stage 2"));
        foreach (var (key, title) in new[] { ("moe_stage1", "after stage 1"), ("moe_lpr", "after stage 2") })
            if (result.Routing.TryGetValue(key, out var statistics))
                report.AddChart(RoutingCharts.ExpertSelectionShare(languages, SelectionShare(statistics),
                    $"Expert selection per language, {title} (share of top-{result.Options.TopK} slots, all layers)"));

        report.AddHeading("Token-level routing");
        report.AddParagraph("Each cell is a token coloured by its top-1 expert per MoE layer (expert 0 = the frozen " +
                            "original MLP); hover for the top-K weights. Greek letters are two byte tokens each for " +
                            "the old-language vocabulary and show as ‹bytes›.");
        foreach (var (key, title) in new[] { ("moe_stage1", "after stage 1"), ("moe_lpr", "after stage 2 (MoE-LPR)") })
            foreach (var language in new[] { "en", "el" })
                if (result.Traces.TryGetValue($"{key}/{language}", out var trace))
                {
                    report.AddHeading($"{DemoLanguages.Name(language)}, {title}", 3);
                    report.AddHtml(TokenRoutingView.Of(trace).ToHtml());
                }
        return report;
    }

    static IReadOnlyList<double> MeanOverLayers(RoutingStatistics statistics) =>
        DemoResultsWriter.Expert0Share(statistics).Select(row => row.Average()).ToList();

    /// <summary>
    /// [language][expert]: the share of top-K routing slots each expert takes, pooled over layers (sums to 1).
    /// </summary>
    static IReadOnlyList<IReadOnlyList<double>> SelectionShare(RoutingStatistics statistics) =>
        DemoLanguages.All.Select(l =>
        {
            var counts = statistics.Counts.Where(c => c.Language == l).ToList();
            double slots = counts.Sum(c => (double)c.Tokens * c.TopK);
            int experts = counts[0].NumExperts;
            return (IReadOnlyList<double>)Enumerable.Range(0, experts)
                .Select(e => counts.Sum(c => (double)c.TokensRouted[e]) / slots).ToList();
        }).ToList();
}
