using MoeLpr.Training;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MoeLpr.Reporting;

/// <summary>
/// What the routers did during training, from the <c>metrics.jsonl</c> lines: the mean router probability of each
/// expert (the reference's <c>scores_per_expert</c>) and, in stage 2, the old-language tokens' mean p_0 per layer
/// (the reference's <c>old_lang_expert0_score</c>).
/// </summary>
public static class RouterTrainingCharts
{
    /// <summary>One line per expert: its mean router probability over layers and tokens, against the step.</summary>
    public static GenericChart ExpertProbabilities(IReadOnlyList<TrainingMetrics> metrics,
        string title = "Mean router probability per expert")
    {
        var logged = metrics.Where(m => m.ExpertProbability is not null).ToList();
        Shape.Require(logged.Count > 0, "no metrics line carries expert_prob (is the model an MoE model?)");
        var lines = Enumerable.Range(0, logged[0].ExpertProbability!.Length)
            .Select(
                e => Line(logged, m => m.ExpertProbability![e], ExpertPalette.LabelOf(e), ExpertPalette.ColorOf(e)));
        return ChartStyle.Apply(CSharpChart.Combine(lines), title, new ChartStyle.Axis("step"),
            new ChartStyle.Axis("mean router probability", ".0%", (0, 1)), 760, 420);
    }

    /// <summary>One line per MoE layer: the old-language tokens' mean p_0 (stage 2's LPR target is 1).</summary>
    public static GenericChart OldLanguageExpert0Probability(IReadOnlyList<TrainingMetrics> metrics,
        string title = "Old-language tokens: mean router probability of expert 0, per layer")
    {
        var logged = metrics.Where(m => m.OldLanguageExpert0Probability is not null).ToList();
        Shape.Require(logged.Count > 0,
            "no metrics line carries old_lang_expert0_prob (did the batches hold old-language tokens?)");
        var lines = Enumerable.Range(0, logged[0].OldLanguageExpert0Probability!.Length)
            .Select(l =>
                Line(logged, m => m.OldLanguageExpert0Probability![l], $"MoE layer {l}", ExpertPalette.ColorOf(l + 1)));
        return ChartStyle.Apply(CSharpChart.Combine(lines), title, new ChartStyle.Axis("step"),
            new ChartStyle.Axis("mean p0 of old-language tokens", ".0%", (0, 1)), 760, 420);
    }

    static GenericChart Line(IReadOnlyList<TrainingMetrics> metrics, Func<TrainingMetrics, double> value, string name,
        string color) =>
        CSharpChart.Line<double, double, string>(
            x: metrics.Select(m => (double)m.Step).ToArray(), y: metrics.Select(value).ToArray(), Name: name,
            LineColor: Color.fromHex(color), LineWidth: 2.0);
}
