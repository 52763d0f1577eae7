using Microsoft.Data.Analysis;
using MoeLpr.Model;
using MoeLpr.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>
/// Where the routers send each language's tokens: per language × MoE layer × expert the top-K selection rate, the
/// mean router probability and the token count, and per language × layer the load balance and the share that goes
/// to the frozen original MLP (expert 0), both as selection rate and as mean p0 (the reference's logged
/// <c>old_lang_expert0_score</c> is the latter). Routing decisions come from the model's own router logits.
/// </summary>
public sealed class RoutingStatistics
{
    public const string ExpertsCsv = "routing_experts.csv";
    public const string LayersCsv = "routing_layers.csv";

    readonly IReadOnlyList<MoeLayerInfo> layers;
    readonly List<RoutingLayerCounts> counts = new();
    readonly Dictionary<(string Language, int Layer), RoutingLayerCounts> byKey = new();

    /// <param name="layers">The MoE layers in the order the router logits come (see <see cref="MoeLayers"/>).</param>
    public RoutingStatistics(IReadOnlyList<MoeLayerInfo> layers)
    {
        if (layers.Count == 0) throw new ArgumentException("routing statistics need at least one MoE layer; upcycle the model or load an adapter first");
        this.layers = layers;
    }

    /// <summary>Counts in first-seen language order, then layer order.</summary>
    public IReadOnlyList<RoutingLayerCounts> Counts => counts;

    /// <summary>Runs every batch through the model under no_grad and counts its routing.</summary>
    public static RoutingStatistics Collect(LlamaForCausalLM model, IEnumerable<LabelledTokens> batches)
    {
        var statistics = new RoutingStatistics(MoeLayers(model));
        var device = model.parameters().First().device;
        using var _ = torch.no_grad();
        foreach (var batch in batches)
        {
            using var scope = torch.NewDisposeScope();
            var output = model.forward(new CausalLMInput(batch.InputIds.to(device)));
            statistics.Add(batch.Label, output.RouterLogits, batch.TokenMask);
        }
        return statistics;
    }

    /// <summary>Decoder index, expert count and top-K of each MoE layer, in layer order.</summary>
    public static IReadOnlyList<MoeLayerInfo> MoeLayers(LlamaForCausalLM model) =>
        model.Model.Layers
            .Select((layer, index) => (layer.Moe, index))
            .Where(p => p.Moe is not null)
            .Select(p => new MoeLayerInfo(p.index, p.Moe!.NumExperts, p.Moe.TopK))
            .ToList();

    /// <summary>Adds one forward pass's router logits (one [tokens, N] tensor per MoE layer) for <paramref name="language"/>.</summary>
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
                throw new ArgumentException($"layer {info.Layer}: router logits have {logits.shape[1]} experts, expected {info.NumExperts}");
            if (tokenMask is not null)
                logits = logits.index_select(0, tokenMask.reshape(-1).to(logits.device).nonzero().squeeze(1));
            var (probabilities, _, experts) = RouterDecisions.Route(logits, info.TopK);
            var routed = experts.reshape(-1).bincount(null, info.NumExperts).cpu().data<long>().ToArray();
            var probabilitySum = probabilities.to_type(ScalarType.Float64).sum(dim: 0).cpu().data<double>().ToArray();
            CountsFor(language, info).Add(logits.shape[0], routed, probabilitySum);
        }
    }

    /// <summary>The counts of <paramref name="info"/> for <paramref name="language"/>; a new language gets every layer at once.</summary>
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
            new DoubleDataFrameColumn("load_vs_ideal", rows.Select(r => r.c.TokensRouted[r.e] / r.c.Balance().IdealTokensPerExpert)));
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

    /// <summary>Writes <see cref="ExpertsCsv"/> and <see cref="LayersCsv"/> into <paramref name="directory"/>.</summary>
    public void SaveCsv(string directory)
    {
        DataFrameExport.WriteCsv(ExpertFrame(), Path.Combine(directory, ExpertsCsv));
        DataFrameExport.WriteCsv(LayerFrame(), Path.Combine(directory, LayersCsv));
    }
}
