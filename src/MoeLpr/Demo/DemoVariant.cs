using MoeLpr.Evaluation;

namespace MoeLpr.Demo;

/// <summary>
/// One model the demo compares: its perplexities and sizes, and the training run that made it (none for the base).
/// </summary>
/// <param name="Key">Column key in results.csv: base, full_ft, lora, moe_stage1, moe_lpr.</param>
/// <param name="ActiveParameters">Parameters used per token (MoE: shared weights + router + top-K experts).</param>
/// <param name="RunDir">Folder with the run's metrics.jsonl and weights; null for the base model.</param>
/// <param name="TaskAccuracy">Next-sentence acc_norm per language (empty without a task file).</param>
public sealed record DemoVariant(string Key, string Label, PerplexityReport Perplexity, long TotalParameters,
                                 long ActiveParameters, long TrainableParameters, string? RunDir, TimeSpan TrainingTime,
                                 IReadOnlyDictionary<string, double> TaskAccuracy)
{
    public double AverageAccuracy(IEnumerable<string> languages) => languages.Average(l => TaskAccuracy[l]);

    public double PerplexityOf(string language) => Perplexity[language].Perplexity;

    /// <summary>Mean of the languages' perplexities (each language weighs the same, as the paper's averages).</summary>
    public double AveragePerplexity(IEnumerable<string> languages) => languages.Average(PerplexityOf);
}
