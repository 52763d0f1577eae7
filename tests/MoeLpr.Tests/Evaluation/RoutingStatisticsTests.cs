using System.Globalization;
using MoeLpr.Evaluation;
using MoeLpr.Reporting;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Evaluation;

public class RoutingStatisticsTests
{
    static LlamaForCausalLM UpcycledModel(int numExperts, int topK, int[] layers)
    {
        var model = TinyModels.Create(TinyModels.Llama, seed: 3);
        Upcycler.Upcycle(model,
            new MoeConfig { NumExperts = numExperts, TopK = topK, LayersToTransform = layers }, seed: 11);
        return model;
    }

    /// <summary>
    /// <c>moelpr routes</c> makes each batch as it is counted (ids and the old-language mask it does not need): both
    /// are freed with the batch, so a run over many datasets does not hold every batch at once.
    /// </summary>
    [Fact]
    public void LazilyMadeBatchesAreFreedAsTheyAreCounted()
    {
        using var model = UpcycledModel(numExperts: 3, topK: 2, layers: []);
        var random = new Random(5);
        var blocks = Enumerable.Range(0, 6)
            .Select(_ => Enumerable.Range(0, 8).Select(_ => random.Next(TinyModels.Llama.VocabSize)).ToArray())
            .ToList();
        var corpus = new MoeLpr.Data.PackedCorpus(8, blocks, blocks.Select(b => new bool[b.Length]).ToList(), [],
            fromCache: false);
        var batches = Enumerable.Range(0, corpus.Count).Chunk(2)
            .Select(chunk => new LabelledTokens("xx", corpus.MakeBatch(chunk).InputIds));

        long before = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        var statistics = RoutingStatistics.Collect(model, batches);

        Assert.Equal(48, statistics.Counts[0].Tokens);
        Assert.Equal(0, DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount - before);
    }

    /// <summary>
    /// A language's whole sample in one batch (as <c>LanguageSamples</c> gives it) runs in forward passes of at most
    /// <see cref="RoutingStatistics.MaxBlocksPerForward"/> blocks: the same counts as one block at a time, its mask
    /// split with it.
    /// </summary>
    [Fact]
    public void ALargeBatchIsCountedInPiecesWithItsMask()
    {
        using var model = UpcycledModel(numExperts: 4, topK: 2, layers: []);
        int rows = RoutingStatistics.MaxBlocksPerForward * 2 + 5;
        using var ids = TinyModels.RandomIds(TinyModels.Llama, rows, 6, seed: 8);
        using var mask = ids.remainder(3).ne(0);

        var whole = RoutingStatistics.Collect(model, [new LabelledTokens("xx", ids, mask)]);
        var oneByOne = RoutingStatistics.Collect(model, Enumerable.Range(0, rows)
            .Select(r => new LabelledTokens("xx", ids.narrow(0, r, 1), mask.narrow(0, r, 1))).ToList());

        Assert.Equal(mask.sum().item<long>(), whole.Counts[0].Tokens);
        foreach (var (a, b) in whole.Counts.Zip(oneByOne.Counts))
        {
            Assert.Equal((b.Layer, b.Tokens), (a.Layer, a.Tokens));
            Assert.Equal(b.TokensRouted, a.TokensRouted);
            for (int e = 0; e < 4; e++) Assert.Equal(b.ProbabilitySum[e], a.ProbabilitySum[e], 1e-6 * a.Tokens);
        }
    }

    /// <summary>
    /// The obvious count: per token, order the experts by router logit (softmax keeps the order), take K. Also counts
    /// the (token, layer) pairs whose K-th and (K+1)-th logits tie, where any top-K choice is as right as another.
    /// </summary>
    static (long Tokens, long[,] Routed, double[,] ProbabilitySum, long BoundaryTies) DirectCount(
        LlamaForCausalLM model, IEnumerable<(Tensor Ids, bool[]? Mask)> batches, int numExperts, int topK)
    {
        int layers = model.MoeBlocks.Count;
        long tokens = 0, ties = 0;
        var routed = new long[layers, numExperts];
        var probabilitySum = new double[layers, numExperts];
        using var _ = torch.no_grad();
        foreach (var (ids, mask) in batches)
        {
            var output = model.forward(new CausalLMInput(ids));
            int count = (int)ids.numel();
            for (int m = 0; m < layers; m++)
            {
                var logits = output.RouterLogits[m].data<float>().ToArray();
                for (int t = 0; t < count; t++)
                {
                    if (mask is not null && !mask[t]) continue;
                    if (m == 0) tokens++;
                    var row = logits.Skip(t * numExperts).Take(numExperts).Select(v => (double)v).ToArray();
                    var order = Enumerable.Range(0, numExperts).OrderByDescending(e => row[e]).ToArray();
                    for (int k = 0; k < topK; k++) routed[m, order[k]]++;
                    if (topK < numExperts && row[order[topK - 1]] == row[order[topK]]) ties++;
                    double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
                    for (int e = 0; e < numExperts; e++) probabilitySum[m, e] += Math.Exp(row[e] - max) / sum;
                }
            }
        }
        return (tokens, routed, probabilitySum, ties);
    }

    [Theory]
    [InlineData(4, 2, new int[0])]
    [InlineData(3, 1, new[] { 1 })]
    [InlineData(5, 3, new[] { 0 })]
    public void StatisticsAgreeWithADirectCountOverTheRouterLogits(int numExperts, int topK, int[] layersToTransform)
    {
        using var model = UpcycledModel(numExperts, topK, layersToTransform);
        var en1 = TinyModels.RandomIds(TinyModels.Llama, 2, 6, seed: 1);
        var en2 = TinyModels.RandomIds(TinyModels.Llama, 1, 9, seed: 2);
        var tr = TinyModels.RandomIds(TinyModels.Llama, 3, 5, seed: 3);
        var trMask = Enumerable.Range(0, 15).Select(i => i % 3 != 1).ToArray();

        var statistics = RoutingStatistics.Collect(model,
        [
            new LabelledTokens("en", en1), new LabelledTokens("tr", tr, torch.tensor(trMask).reshape(3, 5)),
            new LabelledTokens("en", en2),
        ]);

        var expectedLayers = layersToTransform.Length == 0 ? [0, 1] : layersToTransform;
        Assert.Equal(2 * expectedLayers.Length, statistics.Counts.Count);
        foreach (var (language, batches) in new[] { ("en", new[] { (en1, (bool[]?)null), (en2, null) }),
            ("tr", new[] { (tr, (bool[]?)trMask) }) })
        {
            var (tokens, routed, probabilitySum, ties) = DirectCount(model, batches, numExperts, topK);
            Assert.Equal(0, ties); // float32 random routers: every top-K is unambiguous, so counts must match exactly
            var counts = statistics.Counts.Where(c => c.Language == language).ToList();
            Assert.Equal(expectedLayers, counts.Select(c => c.Layer));
            for (int m = 0; m < counts.Count; m++)
            {
                Assert.Equal(tokens, counts[m].Tokens);
                Assert.Equal(tokens * topK, counts[m].TokensRouted.Sum());
                for (int e = 0; e < numExperts; e++)
                {
                    Assert.Equal(routed[m, e], counts[m].TokensRouted[e]);
                    Assert.Equal(probabilitySum[m, e] / tokens, counts[m].MeanProbability(e), 1e-6);
                    Assert.Equal((double)routed[m, e] / tokens, counts[m].SelectionRate(e), 1e-12);
                }
            }
        }
        Assert.Equal(new long[] { 21, 10 }, statistics.Counts.DistinctBy(c => c.Language).Select(c => c.Tokens));

        var frame = statistics.ExpertFrame();
        Assert.Equal(2L * expectedLayers.Length * numExperts, frame.Rows.Count);
        var trFirstRow = frame.Rows[expectedLayers.Length * numExperts];
        Assert.Equal("tr", trFirstRow["language"]);
        Assert.Equal(expectedLayers[0], trFirstRow["layer"]);
        Assert.Equal(0, trFirstRow["expert"]);
        Assert.Equal(statistics.Counts[expectedLayers.Length].TokensRouted[0], trFirstRow["tokens_routed"]);
    }

    [Fact]
    public void HalfPrecisionModelsAgreeUpToTiedRouterLogits()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 3, ScalarType.BFloat16);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 4, TopK = 2 }, seed: 11);
        var ids = TinyModels.RandomIds(TinyModels.Llama, 2, 8, seed: 4);

        var statistics = RoutingStatistics.Collect(model, [new LabelledTokens("zh", ids)]);

        // bfloat16 router logits tie now and then; torch.topk breaks such ties its own way, so a count may move by at
        // most one per tied token. Everything else must agree.
        var (tokens, routed, probabilitySum, ties) = DirectCount(model, [(ids, null)], 4, 2);
        Assert.Equal(16, tokens);
        foreach (var (counts, m) in statistics.Counts.Select((c, m) => (c, m)))
        {
            Assert.Equal(tokens, counts.Tokens);
            Assert.Equal(2 * tokens, counts.TokensRouted.Sum());
            for (int e = 0; e < 4; e++)
                Assert.InRange(counts.TokensRouted[e], routed[m, e] - ties, routed[m, e] + ties);
            Assert.Equal(1.0, Enumerable.Range(0, 4).Sum(counts.MeanProbability), 5);
            Assert.Equal(probabilitySum[m, 0] / tokens, counts.MeanProbability(0), 5);
        }
    }

    [Fact]
    public void ConstructedRoutingGivesExactBalanceFigures()
    {
        // Every token prefers expert 0 then expert 1: with K = 2 experts 2 and 3 are dead.
        var statistics = new RoutingStatistics([new MoeLayerInfo(Layer: 3, NumExperts: 4, TopK: 2)]);
        var logits = torch.tensor(new float[] { 5, 4, 0, 0 }).repeat(6, 1);
        statistics.Add("el", [logits]);

        var counts = Assert.Single(statistics.Counts);
        Assert.Equal(new long[] { 6, 6, 0, 0 }, counts.TokensRouted);
        var balance = counts.Balance();
        Assert.Equal(3.0, balance.IdealTokensPerExpert);           // 6 tokens · 2 / 4
        Assert.Equal(1.0, balance.CoefficientOfVariation, 12);      // counts 6,6,0,0: mean 3, std 3
        Assert.Equal(2, balance.DeadExperts);
        Assert.Equal(2.0, balance.MaxLoadRatio);
        Assert.Equal(0.0, balance.MinLoadRatio);

        double p0 = Math.Exp(5) / (Math.Exp(5) + Math.Exp(4) + 2);
        var layer = statistics.LayerFrame().Rows[0];
        Assert.Equal(1.0, (double)layer["expert0_selection_rate"]!);
        Assert.Equal(p0, (double)layer["expert0_mean_prob"]!, 6);
        Assert.Equal(3, layer["layer"]);
    }

    [Theory]
    [InlineData(new long[] { 10, 10, 10, 10 }, 20, 2, 0.0, 0)]
    [InlineData(new long[] { 20, 20, 0, 0 }, 20, 2, 1.0, 2)]
    [InlineData(new long[] { 9, 3 }, 12, 1, 0.5, 0)]           // mean 6, std 3
    [InlineData(new long[] { 12, 0, 0 }, 12, 1, 1.4142135623730951, 2)]
    public void LoadBalanceOfKnownCounts(long[] routed, long tokens, int topK, double cv, int dead)
    {
        var balance = LoadBalance.From(routed, tokens, topK);
        Assert.Equal(cv, balance.CoefficientOfVariation, 12);
        Assert.Equal(dead, balance.DeadExperts);
        Assert.Equal((double)tokens * topK / routed.Length, balance.IdealTokensPerExpert, 12);
    }

    [Fact]
    public void CsvUsesTheInvariantCultureWhateverTheCurrentOne()
    {
        var statistics = new RoutingStatistics([new MoeLayerInfo(0, 2, 1)]);
        statistics.Add("hu", [torch.tensor(new float[] { 1, 0, 0, 1, 2, 0, 3, 0 }).reshape(4, 2)]);
        var directory = Path.Combine(Path.GetTempPath(), $"moelpr-routes-{Guid.NewGuid():N}");
        var previous = CultureInfo.CurrentCulture;
        try
        {
            // The build uses invariant globalization, so fake a comma-decimal culture instead of loading de-DE.
            var commaDecimal = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            commaDecimal.NumberFormat.NumberDecimalSeparator = ",";
            CultureInfo.CurrentCulture = commaDecimal;
            RoutingCsv.Write(statistics, directory);
            var lines = File.ReadAllLines(Path.Combine(directory, RoutingCsv.ExpertsFile));
            Assert.Equal("language,layer,expert,selection_rate,mean_prob,tokens_routed,load_vs_ideal", lines[0]);
            Assert.StartsWith("hu,0,0,0.75,", lines[1]);
            Assert.Equal(2, File.ReadAllLines(Path.Combine(directory, RoutingCsv.LayersFile)).Length);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
