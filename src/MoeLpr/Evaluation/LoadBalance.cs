namespace MoeLpr.Evaluation;

/// <summary>
/// Load-balance figures of one MoE layer over T tokens: each token is sent to K of the N experts, so a perfectly
/// balanced router gives every expert T·K/N tokens.
/// </summary>
/// <param name="CoefficientOfVariation">Population standard deviation of the per-expert token counts over their mean
/// (0 = perfectly balanced; NaN when no token was seen).</param>
/// <param name="MaxLoadRatio">Largest per-expert count over the ideal count.</param>
/// <param name="MinLoadRatio">Smallest per-expert count over the ideal count.</param>
/// <param name="DeadExperts">Experts that no token selected.</param>
public sealed record LoadBalance(long Tokens, int NumExperts, int TopK, double IdealTokensPerExpert,
                                 double CoefficientOfVariation, double MaxLoadRatio, double MinLoadRatio, int DeadExperts)
{
    /// <param name="tokensPerExpert">How many tokens had each expert among their top-K (sums to tokens·K).</param>
    public static LoadBalance From(IReadOnlyList<long> tokensPerExpert, long tokens, int topK)
    {
        int n = tokensPerExpert.Count;
        double ideal = (double)tokens * topK / n;
        double mean = tokensPerExpert.Average(c => (double)c);
        double variance = tokensPerExpert.Average(c => (c - mean) * (c - mean));
        double cv = mean == 0 ? double.NaN : Math.Sqrt(variance) / mean;
        double max = tokens == 0 ? double.NaN : tokensPerExpert.Max() / ideal;
        double min = tokens == 0 ? double.NaN : tokensPerExpert.Min() / ideal;
        return new LoadBalance(tokens, n, topK, ideal, cv, max, min, tokensPerExpert.Count(c => c == 0));
    }
}
