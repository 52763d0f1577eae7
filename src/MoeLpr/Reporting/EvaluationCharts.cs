using Plotly.NET;

namespace MoeLpr.Reporting;

/// <summary>Evaluation results side by side: old- and new-language quality per model variant.</summary>
public static class EvaluationCharts
{
    /// <summary>
    /// Grouped columns of perplexity: languages on x, one column per model variant (e.g. dense, stage 1, MoE-LPR).
    /// Lower is better; <paramref name="logScale"/> helps when an untrained variant dwarfs the others.
    /// </summary>
    public static GenericChart PerplexityComparison(IReadOnlyList<string> languages,
        IReadOnlyList<NamedSeries> variants, string title = "Perplexity per language (lower is better)",
        bool logScale = false)
    {
        foreach (var variant in variants)
            Shape.Require(variant.Values.All(v => v > 0 && double.IsFinite(v)),
                $"perplexities of '{variant.Name}' must be finite and positive");
        return GroupedColumns.Create(languages, variants, title, new ChartStyle.Axis("language"),
            new ChartStyle.Axis(logScale ? "perplexity (log scale)" : "perplexity", Log: logScale), asPercent: false);
    }
}
