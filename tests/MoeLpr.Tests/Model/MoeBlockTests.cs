using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class MoeBlockTests
{
    /// <summary>
    /// The expected output computed the slow, obvious way: every expert on every token, then per token
    /// Σ over its top-K experts of weight · output, with weights from a float64 softmax done in plain C#.
    /// </summary>
    static double[,] ExpectedMix(MoeBlock block, Tensor x, int topK)
    {
        var tokens = x.reshape(-1, x.shape[^1]);
        long count = tokens.shape[0], hidden = tokens.shape[1];
        var logits = block.RouterWeight.matmul(tokens.T).T.to_type(ScalarType.Float64).data<double>().ToArray();
        var outputs = Enumerable.Range(0, block.NumExperts)
            .Select(e => block.Expert(e).forward(tokens).to_type(ScalarType.Float64).data<double>().ToArray())
            .ToArray();
        var expected = new double[count, hidden];
        for (int t = 0; t < count; t++)
        {
            var row = Enumerable.Range(0, block.NumExperts).Select(e => logits[t * block.NumExperts + e]).ToArray();
            var max = row.Max();
            var exp = row.Select(v => Math.Exp(v - max)).ToArray();
            var p = exp.Select(v => v / exp.Sum()).ToArray();
            var top = Enumerable.Range(0, p.Length).OrderByDescending(e => p[e]).Take(topK).ToArray();
            var norm = topK > 1 ? top.Sum(e => p[e]) : 1.0;
            foreach (var e in top)
                for (int d = 0; d < hidden; d++)
                    expected[t, d] += p[e] / norm * outputs[e][t * hidden + d];
        }
        return expected;
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(5, 3)]
    [InlineData(3, 3)]
    public void OutputIsTheRenormalisedTopKMixture(int experts, int topK)
    {
        using var block = TinyModels.Block(16, 24, experts, topK, seed: 4);
        using var x = TinyModels.RandomHidden(2, 5, 16, seed: 9);
        using var _ = torch.no_grad();
        var output = block.forward(x);

        Assert.Equal(x.shape, output.HiddenStates.shape);
        Assert.Equal([10L, experts], output.RouterLogits.shape);
        var expected = ExpectedMix(block, x, topK);
        var actual = output.HiddenStates.reshape(10, 16).to_type(ScalarType.Float64).data<double>().ToArray();
        for (int t = 0; t < 10; t++)
            for (int d = 0; d < 16; d++)
                Assert.True(Math.Abs(actual[t * 16 + d] - expected[t, d]) < 1e-5,
                    $"token {t} dim {d}: {actual[t * 16 + d]} vs {expected[t, d]}");
    }

    [Fact]
    public void ExpertsRunOnlyOnTheTokensThatChoseThem()
    {
        using var block = TinyModels.Block(8, 12, 4, 2, seed: 1);
        using var x = TinyModels.RandomHidden(1, 6, 8, seed: 2).abs();    // positive inputs
        using var _ = torch.no_grad();
        // Router row of expert 3 = −1000·(1,…,1): its logit is −1000·Σ|x| for every token, so it is never
        // chosen.
        block.RouterWeight[3].fill_(-1000);
        // Poison expert 3: a dense implementation (every expert on every token, weight 0) would spread NaN.
        foreach (var p in block.Expert(3).parameters()) p.fill_(double.NaN);

        var output = block.forward(x);
        Assert.Equal(0, output.RouterLogits.topk(2, dim: -1).indexes.eq(3).sum().item<long>());
        Assert.False(output.HiddenStates.isnan().any().item<bool>());
    }

    [Fact]
    public void RouterLogitsAreFloat32ForBFloat16Weights()
    {
        using var block = TinyModels.Block(8, 12, 4, 2, seed: 1, ScalarType.BFloat16);
        using var x = TinyModels.RandomHidden(2, 3, 8, seed: 2, ScalarType.BFloat16);
        using var _ = torch.no_grad();
        var output = block.forward(x);
        Assert.Equal(ScalarType.BFloat16, output.HiddenStates.dtype);
        Assert.Equal(ScalarType.Float32, output.RouterLogits.dtype);
        Assert.Equal([6L, 4L], output.RouterLogits.shape);
    }
}
