using Microsoft.Data.Analysis;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>
/// A batch of token ids [B, T] that belong to one language or dataset (<paramref name="Label"/>), for routing
/// statistics. <paramref name="TokenMask"/> [B, T] bool, when given, keeps only the true positions (e.g. to skip
/// padding).
/// </summary>
public sealed record LabelledTokens(string Label, Tensor InputIds, Tensor? TokenMask = null);

/// <summary>One MoE layer of a model: its decoder-layer index, expert count N and top-K.</summary>
public sealed record MoeLayerInfo(int Layer, int NumExperts, int TopK);

/// <summary>
/// Where the routers send each language's tokens: per language × MoE layer × expert the top-K selection rate, the
/// mean router probability and the token count, and per language × layer the load balance and the share that goes
/// to the frozen original MLP (expert 0), both as selection rate and as mean p0 (the reference's logged
/// <c>old_lang_expert0_score</c> is the latter). Routing decisions come from the model's own router logits.
/// </summary>
public sealed class RoutingStatistics
{
    readonly IReadOnlyList<MoeLayerInfo> layers;
    readonly List<RoutingLayerCounts> counts = new();
    readonly Dictionary<(string Language, int Layer), RoutingLayerCounts> byKey = new();

    /// <param name="layers">The MoE layers in the order the router logits come (see <see cref="MoeLayers"/>).</param>
    public RoutingStatistics(IReadOnlyList<MoeLayerInfo> layers)
    {
        if (layers.Count == 0)
            throw new ArgumentException(
                "routing statistics need at least one MoE layer; upcycle the model or load an adapter first");
        this.layers = layers;
    }

    /// <summary>Counts in first-seen language order, then layer order.</summary>
    public IReadOnlyList<RoutingLayerCounts> Counts => counts;

    /// <summary>Blocks per forward pass: a language's whole sample at once would hold its [B, T, V] logits.</summary>
    public const int MaxBlocksPerForward = 32;

    /// <summary>
    /// Runs every batch through the model in eval mode, at most <see cref="MaxBlocksPerForward"/> blocks at a time,
    /// and counts its routing (the counts are sums, so the split changes nothing). Each batch is taken from
    /// <paramref name="batches"/> inside its own dispose scope, so the tensors of a lazily made batch go with it.
    /// </summary>
    public static RoutingStatistics Collect(LlamaForCausalLM model, IEnumerable<LabelledTokens> batches)
    {
        var statistics = new RoutingStatistics(MoeLayers(model));
        var device = model.parameters().First().device;
        using var _ = EvaluationMode.Enter(model);
        using var next = batches.GetEnumerator();
        while (true)
        {
            using var scope = torch.NewDisposeScope();
            if (!next.MoveNext()) break;
            var batch = next.Current;
            var mask = batch.TokenMask?.reshape(batch.InputIds.shape);
            for (long start = 0, rows = batch.InputIds.shape[0]; start < rows; start += MaxBlocksPerForward)
            {
                using var chunkScope = torch.NewDisposeScope();
                long count = Math.Min(MaxBlocksPerForward, rows - start);
                var output = model.forward(new CausalLMInput(batch.InputIds.narrow(0, start, count).to(device)));
                statistics.Add(batch.Label, output.RouterLogits, mask?.narrow(0, start, count));
            }
        }
        return statistics;
    }

    /// <summary>Decoder index of each MoE layer in layer order, with the model's expert count and top-K.</summary>
    public static IReadOnlyList<MoeLayerInfo> MoeLayers(LlamaForCausalLM model) =>
        model.Moe is not { } moe ? [] :
        model.Model.Layers
            .Select((layer, index) => (layer.Moe, index))
            .Where(p => p.Moe is not null)
            .Select(p => new MoeLayerInfo(p.index, moe.NumExperts, moe.TopK))
            .ToList();

    /// <summary>
    /// Adds one forward pass's router logits (one [tokens, N] tensor per MoE layer) for <paramref name="language"/>.
    /// </summary>
    /// <param name="tokenMask">Any shape with tokens elements, true = count the token; null counts all.</param>
    public void Add(string language, IReadOnlyList<Tensor> routerLogits, Tensor? tokenMask = null)
    {
        if (routerLogits.Count != layers.Count)
            throw new ArgumentException($"{routerLogits.Count} router-logit tensors for {layers.Count} MoE layers");
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        for (int m = 0; m < layers.Count; m++)
        {
            var info = layers[m];
            var logits = routerLogits[m];
            if (logits.shape[1] != info.NumExperts)
                throw new ArgumentException(
                    $"layer {info.Layer}: router logits have {logits.shape[1]} experts, expected {info.NumExperts}");
            if (tokenMask is not null)
                logits = logits.index_select(0, tokenMask.reshape(-1).to(logits.device).nonzero().squeeze(1));
            var routing = MoeBlock.Route(logits, info.TopK);
            var routed = routing.Experts.reshape(-1).bincount(null, info.NumExperts).cpu().data<long>().ToArray();
            var probabilitySum = routing.Probabilities.to_type(ScalarType.Float64)
                .sum(dim: 0).cpu().data<double>().ToArray();
            CountsFor(language, info).Add(logits.shape[0], routed, probabilitySum);
        }
    }

    /// <summary>
    /// The counts of <paramref name="info"/> for <paramref name="language"/>; a new language gets every layer at once.
    /// </summary>
    RoutingLayerCounts CountsFor(string language, MoeLayerInfo info)
    {
        if (!byKey.ContainsKey((language, info.Layer)))
            foreach (var layer in layers)
            {
                var created = new RoutingLayerCounts(language, layer.Layer, layer.NumExperts, layer.TopK);
                byKey[(language, layer.Layer)] = created;
                counts.Add(created);
            }
        return byKey[(language, info.Layer)];
    }

    /// <summary>Long format, one row per language × layer × expert.</summary>
    public DataFrame ExpertFrame()
    {
        var rows = counts.SelectMany(c => Enumerable.Range(0, c.NumExperts).Select(e => (c, e))).ToList();
        return new DataFrame(
            new StringDataFrameColumn("language", rows.Select(r => r.c.Language)),
            new Int32DataFrameColumn("layer", rows.Select(r => r.c.Layer)),
            new Int32DataFrameColumn("expert", rows.Select(r => r.e)),
            new DoubleDataFrameColumn("selection_rate", rows.Select(r => r.c.SelectionRate(r.e))),
            new DoubleDataFrameColumn("mean_prob", rows.Select(r => r.c.MeanProbability(r.e))),
            new Int64DataFrameColumn("tokens_routed", rows.Select(r => r.c.TokensRouted[r.e])),
            new DoubleDataFrameColumn("load_vs_ideal",
                rows.Select(r => r.c.TokensRouted[r.e] / r.c.Balance().IdealTokensPerExpert)));
    }

    /// <summary>One row per language × layer: load balance and the share sent to expert 0.</summary>
    public DataFrame LayerFrame()
    {
        var balances = counts.Select(c => c.Balance()).ToList();
        return new DataFrame(
            new StringDataFrameColumn("language", counts.Select(c => c.Language)),
            new Int32DataFrameColumn("layer", counts.Select(c => c.Layer)),
            new Int64DataFrameColumn("tokens", counts.Select(c => c.Tokens)),
            new Int32DataFrameColumn("num_experts", counts.Select(c => c.NumExperts)),
            new Int32DataFrameColumn("top_k", counts.Select(c => c.TopK)),
            new DoubleDataFrameColumn("ideal_tokens_per_expert", balances.Select(b => b.IdealTokensPerExpert)),
            new DoubleDataFrameColumn("cv_tokens_per_expert", balances.Select(b => b.CoefficientOfVariation)),
            new DoubleDataFrameColumn("max_load_ratio", balances.Select(b => b.MaxLoadRatio)),
            new DoubleDataFrameColumn("min_load_ratio", balances.Select(b => b.MinLoadRatio)),
            new Int32DataFrameColumn("dead_experts", balances.Select(b => b.DeadExperts)),
            new DoubleDataFrameColumn("expert0_selection_rate", counts.Select(c => c.SelectionRate(0))),
            new DoubleDataFrameColumn("expert0_mean_prob", counts.Select(c => c.MeanProbability(0))));
    }
}

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
                                 double CoefficientOfVariation, double MaxLoadRatio, double MinLoadRatio,
                                 int DeadExperts)
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

/// <summary>
/// <see cref="RoutingStatistics"/> reshaped into the matrices the routing charts take, languages in first-seen order
/// and MoE layers in layer order.
/// </summary>
/// <param name="Expert0Selection">[language][layer] share of the tokens that have expert 0 among their top-K.</param>
/// <param name="Expert0Probability">[language][layer] mean router probability p_0 (the reference's logged
/// score).</param>
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
        var selection = byLanguage.Select(g => (IReadOnlyList<double>)g.Select(c => c.SelectionRate(0)).ToList())
            .ToList();
        var probability = byLanguage.Select(g => (IReadOnlyList<double>)g.Select(c => c.MeanProbability(0)).ToList())
            .ToList();
        var decisions = byLanguage.Select(g =>
        {
            var routed = Enumerable.Range(0, g.First().NumExperts)
                .Select(e => (double)g.Sum(c => c.TokensRouted[e])).ToList();
            double all = routed.Sum();
            return (IReadOnlyList<double>)routed.Select(r => all == 0 ? double.NaN : r / all).ToList();
        }).ToList();
        return new RoutingSummary(languages, layers, selection, probability, decisions);
    }
}
