using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Upcycling;
using TorchSharp;

namespace MoeLpr.Tests.Evaluation;

public class TokenRoutingTraceTests
{
    [Theory]
    [InlineData(4, 2)]
    [InlineData(3, 1)]
    public void TraceHoldsTheTopKExpertsAndRenormalisedWeightsOfEveryToken(int numExperts, int topK)
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 5);
        Upcycler.Upcycle(model,
            new MoeConfig { NumExperts = numExperts, TopK = topK, LayersToTransform = [1] }, seed: 8);
        int[] ids = [4, 17, 33, 2, 90, 61, 7];
        string[] strings = ids.Select(i => $"t{i}").ToArray();

        var trace = TokenRoutingTrace.Trace(model, ids, strings);

        Assert.Equal(strings, trace.Tokens);
        Assert.Equal([1], trace.Layers);
        Assert.Equal(numExperts, trace.NumExperts);
        using var _ = torch.no_grad();
        var logits = model.forward(new CausalLMInput(
            torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]))).RouterLogits[0].data<float>().ToArray();
        for (int t = 0; t < ids.Length; t++)
        {
            var row = logits.Skip(t * numExperts).Take(numExperts).Select(v => (double)v).ToArray();
            var order = Enumerable.Range(0, numExperts).OrderByDescending(e => row[e]).Take(topK).ToArray();
            var p = row.Select(v => Math.Exp(v - row.Max())).ToArray();
            double norm = topK > 1 ? order.Sum(e => p[e]) : p.Sum();
            Assert.Equal(order, trace.Experts[0][t]);
            for (int k = 0; k < topK; k++)
                Assert.Equal(p[order[k]] / norm, trace.Weights[0][t][k], 5);
        }
    }

    [Fact]
    public void DenseModelsAndMismatchedStringsAreRejected()
    {
        using var dense = TinyModels.Create(TinyModels.Llama, seed: 5);
        Assert.Throws<ArgumentException>(() => TokenRoutingTrace.Trace(dense, [1, 2], ["a", "b"]));
        Upcycler.Upcycle(dense, new MoeConfig { NumExperts = 2, TopK = 1 }, seed: 1);
        Assert.Throws<ArgumentException>(() => TokenRoutingTrace.Trace(dense, [1, 2], ["a"]));
    }
}
