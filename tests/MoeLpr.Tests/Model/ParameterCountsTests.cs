using MoeLpr.Model;
using MoeLpr.Upcycling;

namespace MoeLpr.Tests.Model;

public class ParameterCountsTests
{
    [Fact]
    public void DenseModelIsAllActive()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 1);

        var counts = ParameterCounts.Of(model);

        Assert.Equal(model.parameters().Sum(p => p.numel()), counts.Total);
        Assert.Equal(counts.Total, counts.ActivePerToken);
        Assert.Equal(counts.Total, counts.Trainable);
        Assert.Equal(0, counts.Routers);
        Assert.Equal(0, counts.NewExperts);
    }

    [Theory]
    [InlineData(4, 2)]
    [InlineData(4, 1)]
    [InlineData(3, 3)]
    public void UpcyclingAddsNMinusOneExpertsButOnlyKMinusOneActive(int numExperts, int topK)
    {
        var config = TinyModels.Llama;
        using var model = TinyModels.Create(config, seed: 1);
        long dense = ParameterCounts.Of(model).Total;
        long mlp = 3L * config.HiddenSize * config.IntermediateSize, layers = config.NumHiddenLayers;

        Upcycler.Upcycle(model, new MoeConfig { NumExperts = numExperts, TopK = topK }, seed: 0);
        model.SetTrainable(name => name.Contains("moe_router_embedding"));
        var counts = ParameterCounts.Of(model);

        long routers = layers * numExperts * config.HiddenSize;
        Assert.Equal(routers, counts.Routers);
        Assert.Equal(layers * (numExperts - 1) * mlp, counts.NewExperts);
        Assert.Equal(dense + counts.NewExperts + routers, counts.Total);
        Assert.Equal(dense + layers * (topK - 1) * mlp + routers, counts.ActivePerToken);
        Assert.Equal(routers, counts.Trainable);
    }
}
