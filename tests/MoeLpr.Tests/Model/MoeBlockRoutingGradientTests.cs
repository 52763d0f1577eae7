using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class MoeBlockRoutingGradientTests
{
    /// <summary>
    /// Σ_e w_e(x) · expert_e(x) over every expert, with the non-chosen experts' weights 0: the obvious, dense way.
    /// </summary>
    static Tensor DenseMixture(MoeBlock block, Tensor tokens)
    {
        var probabilities = nn.functional.linear(tokens, block.RouterWeight).softmax(-1);
        var (top, chosen) = probabilities.topk(block.TopK, dim: -1);
        var weights = torch.zeros_like(probabilities).scatter(1, chosen, top / top.sum(-1, keepdim: true));
        var mixed = torch.zeros_like(tokens);
        for (int e = 0; e < block.NumExperts; e++)
            mixed = mixed + weights.narrow(1, e, 1) * block.Expert(e).forward(tokens);
        return mixed;
    }

    static Dictionary<string, Tensor> Gradients(MoeBlock block, Tensor input, Func<Tensor, Tensor> forward,
        Tensor upstream)
    {
        block.zero_grad();
        var x = input.detach().requires_grad_(true);
        (forward(x) * upstream).sum().backward();
        var grads = block.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        grads["input"] = x.grad!.detach().clone();
        return grads;
    }

    [Fact]
    public void GradientsEqualTheDenseMixtureInFloat64()
    {
        using var block = TinyModels.Block(12, 20, 4, 2, seed: 3, ScalarType.Float64);
        using var x = TinyModels.RandomHidden(1, 9, 12, seed: 5, ScalarType.Float64).reshape(9, 12);
        using var upstream = TinyModels.RandomHidden(1, 9, 12, seed: 6, ScalarType.Float64).reshape(9, 12);

        var routed = Gradients(block, x, t => block.forward(t).HiddenStates, upstream);
        var dense = Gradients(block, x, t => DenseMixture(block, t), upstream);

        Assert.Equal(dense.Keys.Order(), routed.Keys.Order());
        foreach (var (name, expected) in dense)
            Assert.True(routed[name].allclose(expected, rtol: 1e-9, atol: 1e-12), $"gradient of {name} differs");
        Assert.True(routed["moe_router_embedding.weight"].abs().sum().item<double>() > 0);
    }

    [Fact]
    public void RouterOnlyTrainingLeavesFrozenExpertsWithoutGradients()
    {
        using var block = TinyModels.Block(8, 12, 4, 2, seed: 1);
        foreach (var (name, p) in block.named_parameters()) p.requires_grad = name.Contains("moe_router_embedding");
        // as in every layer above the first
        using var x = TinyModels.RandomHidden(2, 5, 8, seed: 2).requires_grad_(true);

        block.forward(x).HiddenStates.sum().backward();

        foreach (var (name, p) in block.named_parameters().Where(p => !p.name.Contains("router")))
            Assert.True(p.grad is null, $"{name} is frozen but got a gradient");
        Assert.True(block.RouterWeight.grad!.abs().sum().item<float>() > 0);
        Assert.True(x.grad!.abs().sum().item<float>() > 0);
    }
}
