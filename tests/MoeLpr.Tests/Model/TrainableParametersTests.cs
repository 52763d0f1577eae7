using MoeLpr.Model;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class TrainableParametersTests
{
    [Fact]
    public void StageOneTrainsRoutersAndNewExpertsOnly()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 1);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 1);
        var count = model.SetTrainable(name => name.Contains("moe_"));

        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        // Per layer: router 3·32 + two new experts of 3·32·48 each.
        Assert.Equal(2 * (3 * 32 + 2 * 3 * 32 * 48), count);
        Assert.Equal(2 * (1 + 2 * 3), trainable.Count);
        Assert.All(trainable, n => Assert.Contains("moe_", n));
        Assert.Contains(model.named_parameters(), p => p.name.Contains("base_layer") && !p.parameter.requires_grad);

        using var ids = TinyModels.RandomIds(TinyModels.Llama, 1, 5, seed: 2);
        model.forward(new CausalLMInput(ids, ids)).LmLoss!.backward();
        foreach (var (name, p) in model.named_parameters())
            Assert.True(p.requires_grad == (p.grad is not null), $"{name}: grad presence must follow requires_grad");
    }

    [Fact]
    public void StageTwoTrainsRoutersOnly()
    {
        using var model = TinyModels.Create(TinyModels.Qwen2, seed: 1);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 4, TopK = 2 }, seed: 1);
        var count = model.SetTrainable(name => name.Contains("moe_router_embedding"));
        Assert.Equal(2 * 4 * 24, count);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToArray();
        Assert.Equal(
            ["model.layers.0.mlp.moe_router_embedding.weight", "model.layers.1.mlp.moe_router_embedding.weight"],
            trainable.Order().ToArray());
    }
}
