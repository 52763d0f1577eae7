using System.Text.Json.Serialization;

namespace MoeLpr.Training;

/// <summary>
/// One line of <c>metrics.jsonl</c>, written every logging step. Loss values are means over the micro-batches since
/// the previous line; <see cref="AuxLoss"/> and <see cref="LprLoss"/> are unscaled (before their coefficients).
/// Routing statistics are token-weighted over the same window: <see cref="ExpertProbability"/> is the reference's
/// <c>scores_per_expert</c> (mean router probability per expert over layers and tokens); per MoE layer,
/// <see cref="OldLanguageExpert0Probability"/> is the mean p_0 of old-language tokens (the reference's
/// <c>old_lang_expert0_score</c>) and <see cref="OldLanguageExpert0Selected"/> the share of them that have expert 0 in
/// their top-K. Fields that do not apply are absent.
/// </summary>
public sealed record TrainingMetrics
{
    [JsonPropertyName("step")] public int Step { get; init; }
    [JsonPropertyName("epoch")] public double Epoch { get; init; }
    [JsonPropertyName("loss")] public double Loss { get; init; }
    [JsonPropertyName("lm_loss")] public double LmLoss { get; init; }
    [JsonPropertyName("aux_loss")] public double? AuxLoss { get; init; }
    [JsonPropertyName("lpr_loss")] public double? LprLoss { get; init; }
    [JsonPropertyName("lr")] public double LearningRate { get; init; }
    [JsonPropertyName("grad_norm")] public double GradNorm { get; init; }
    [JsonPropertyName("tokens_per_s")] public double TokensPerSecond { get; init; }
    [JsonPropertyName("elapsed_s")] public double ElapsedSeconds { get; init; }
    [JsonPropertyName("expert_prob")] public double[]? ExpertProbability { get; init; }
    [JsonPropertyName("old_lang_expert0_prob")] public double[]? OldLanguageExpert0Probability { get; init; }
    [JsonPropertyName("old_lang_expert0_selected")] public double[]? OldLanguageExpert0Selected { get; init; }
}
