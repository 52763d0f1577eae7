namespace MoeLpr.Evaluation;

/// <summary>
/// <see cref="RoutingStatistics"/> reshaped into the matrices the routing charts take, languages in first-seen order
/// and MoE layers in layer order.
/// </summary>
/// <param name="Expert0Selection">[language][layer] share of the tokens that have expert 0 among their top-K.</param>
/// <param name="Expert0Probability">[language][layer] mean router probability p_0 (the reference's logged score).</param>
/// <param name="DecisionShare">[language][expert] share of all routing decisions (tokens × K, summed over layers)
/// that picked the expert; each row sums to 1.</param>
public sealed record RoutingSummary(
    IReadOnlyList<string> Languages, IReadOnlyList<int> Layers,
    IReadOnlyList<IReadOnlyList<double>> Expert0Selection,
    IReadOnlyList<IReadOnlyList<double>> Expert0Probability,
    IReadOnlyList<IReadOnlyList<double>> DecisionShare)
{
    public static RoutingSummary From(RoutingStatistics statistics)
    {
        var byLanguage = statistics.Counts.GroupBy(c => c.Language).ToList();
        var languages = byLanguage.Select(g => g.Key).ToList();
        var layers = byLanguage[0].Select(c => c.Layer).ToList();
        var selection = byLanguage.Select(g => (IReadOnlyList<double>)g.Select(c => c.SelectionRate(0)).ToList()).ToList();
        var probability = byLanguage.Select(g => (IReadOnlyList<double>)g.Select(c => c.MeanProbability(0)).ToList()).ToList();
        var decisions = byLanguage.Select(g =>
        {
            var routed = Enumerable.Range(0, g.First().NumExperts).Select(e => (double)g.Sum(c => c.TokensRouted[e])).ToList();
            double all = routed.Sum();
            return (IReadOnlyList<double>)routed.Select(r => all == 0 ? double.NaN : r / all).ToList();
        }).ToList();
        return new RoutingSummary(languages, layers, selection, probability, decisions);
    }
}
