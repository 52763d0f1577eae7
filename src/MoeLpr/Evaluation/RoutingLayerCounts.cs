namespace MoeLpr.Evaluation;

/// <summary>
/// Running routing counts of one MoE layer for one language: tokens seen, how many of them had each expert among
/// their top-K, and the sum of each expert's router probability (for the mean).
/// </summary>
public sealed class RoutingLayerCounts
{
    public string Language { get; }
    /// <summary>Decoder layer index (not the ordinal among MoE layers).</summary>
    public int Layer { get; }
    public int TopK { get; }
    public long Tokens { get; private set; }
    public long[] TokensRouted { get; }
    public double[] ProbabilitySum { get; }

    public RoutingLayerCounts(string language, int layer, int numExperts, int topK)
    {
        Language = language;
        Layer = layer;
        TopK = topK;
        TokensRouted = new long[numExperts];
        ProbabilitySum = new double[numExperts];
    }

    public int NumExperts => TokensRouted.Length;

    public void Add(long tokens, IReadOnlyList<long> routed, IReadOnlyList<double> probabilitySum)
    {
        Tokens += tokens;
        for (int e = 0; e < NumExperts; e++)
        {
            TokensRouted[e] += routed[e];
            ProbabilitySum[e] += probabilitySum[e];
        }
    }

    /// <summary>Fraction of tokens that had expert <paramref name="e"/> among their top-K.</summary>
    public double SelectionRate(int e) => Tokens == 0 ? double.NaN : (double)TokensRouted[e] / Tokens;

    public double MeanProbability(int e) => Tokens == 0 ? double.NaN : ProbabilitySum[e] / Tokens;

    public LoadBalance Balance() => LoadBalance.From(TokensRouted, Tokens, TopK);
}
