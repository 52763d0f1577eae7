using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class MoeBlockGradientTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void GradientsOfInputRouterAndExpertsMatchFiniteDifferences(int topK)
    {
        using var block = TinyModels.Block(6, 8, 3, topK, seed: 12, ScalarType.Float64);
        using var x = TinyModels.RandomHidden(1, 4, 6, seed: 13, ScalarType.Float64).requires_grad_();
        // A fixed random projection of the output, so every output element matters differently.
        using var probe = TinyModels.RandomHidden(1, 4, 6, seed: 14, ScalarType.Float64);
        var inputs = new List<Tensor> { x, block.RouterWeight };
        inputs.AddRange(block.Expert(1).parameters());

        var error = GradientCheck.MaxError(() => (block.forward(x).HiddenStates * probe).sum(), inputs);
        Assert.True(error < 1e-6, $"max gradient error {error}");
        Assert.True(block.RouterWeight.grad!.abs().sum().item<double>() > 0,
            "the router must receive gradient through the routing weights");
    }
}
