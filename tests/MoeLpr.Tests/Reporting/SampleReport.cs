using Microsoft.Data.Analysis;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Reporting;

/// <summary>A report with every kind of chart and block the kit draws, built from small synthetic numbers.</summary>
static class SampleReport
{
    public static readonly string[] Languages = ["en", "zh", "es", "el", "hu", "tr"];

    public static HtmlReport Build()
    {
        double[][] heat = Languages.Select(
            (_, i) => Enumerable.Range(0, 6).Select(l => i < 3 ? 0.9 - 0.05 * l : 0.1 + 0.03 * l).ToArray()).ToArray();
        double[][] selection = Languages.Select(
            (_, i) => i < 3 ? new[] { 0.7, 0.1, 0.1, 0.1 } : new[] { 0.1, 0.35, 0.3, 0.25 }).ToArray();
        var log = TrainingMetricsLog.Parse(Enumerable.Range(1, 40).Select(s =>
            $$"""{"step": {{s}}, "loss": {{5.0 / Math.Sqrt(s) + 0.01 * s}}, "lm_loss": {{4.9 / Math.Sqrt(s)}}, "aux_loss": {{2 + 0.5 / s}}, "lpr_loss": {{1.0 / s}}}"""), "synthetic");
        var table = new DataFrame(new StringDataFrameColumn("language", Languages),
            new DoubleDataFrameColumn("dense", [10.5, 18.25, 12.0, 90.0, 120.0, 85.5]),
            new DoubleDataFrameColumn("MoE-LPR", [10.75, 18.5, 12.25, 30.0, 41.0, 33.0]));

        return new HtmlReport("MoE-LPR sample report")
            .AddHeading("Routing")
            .AddParagraph("Old languages (en, zh, es) should be routed to expert 0 <the frozen original>.")
            .AddChart(RoutingCharts.Expert0ShareHeatmap(Languages, [0, 1, 2, 3, 4, 5], heat))
            .AddChart(RoutingCharts.ExpertSelectionShare(Languages, selection))
            .AddChart(RoutingCharts.Expert0ShareComparison(Languages,
                [new NamedSeries("stage 1", [0.3, 0.32, 0.28, 0.1, 0.12, 0.11]),
                    new NamedSeries("stage 2", [0.9, 0.88, 0.91, 0.1, 0.09, 0.12])]))
            .AddHeading("Training")
            .AddChart(TrainingCharts.Curves(log))
            .AddHeading("Evaluation")
            .AddChart(EvaluationCharts.PerplexityComparison(Languages,
                [new NamedSeries("dense", [10.5, 18.25, 12.0, 90.0, 120.0, 85.5]),
                    new NamedSeries("MoE-LPR", [10.75, 18.5, 12.25, 30.0, 41.0, 33.0])]))
            .AddTable(table, caption: "Perplexity per language")
            .AddHeading("One sentence, token by token")
            .AddHtml(SampleRouting().ToHtml());
    }

    public static TokenRoutingView SampleRouting()
    {
        string[] tokens = ["The", " cat", " sat", " on", " the", " mat", ".", " Η", " γάτα", " κάθεται"];
        var experts = new int[3][][];
        var weights = new float[3][][];
        for (var layer = 0; layer < 3; layer++)
        {
            experts[layer] = new int[tokens.Length][];
            weights[layer] = new float[tokens.Length][];
            for (var t = 0; t < tokens.Length; t++)
            {
                var first = t < 7 ? (layer == 1 && t == 3 ? 2 : 0) : 1 + (t + layer) % 3;
                experts[layer][t] = [first, first == 0 ? 1 + t % 3 : 0];
                weights[layer][t] = [0.6f + 0.03f * t, 0.4f - 0.03f * t];
            }
        }
        return new TokenRoutingView(tokens, experts, weights, layers: [0, 1, 2], numExperts: 4);
    }
}
