using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

/// <summary>
/// The grouped dispatch (one _grouped_mm per projection, libtorch's CPU fallback here) computes what the per-expert
/// loop computes: checked in float32 against the loop run in float64 on the same weights, values and gradients.
/// </summary>
public class GroupedExpertsTests
{
    static (MoeBlock Grouped, MoeBlock Reference) Blocks(int experts, int topK, long seed)
    {
        var grouped = TinyModels.Block(16, 24, experts, topK, seed);
        grouped.Dispatch = ExpertDispatch.Grouped;
        var reference = TinyModels.Block(16, 24, experts, topK, seed, ScalarType.Float64);
        reference.Dispatch = ExpertDispatch.Loop;
        using var _ = torch.no_grad();
        var source = grouped.state_dict();
        foreach (var (name, p) in reference.named_parameters()) p.copy_(source[name]);
        return (grouped, reference);
    }

    static Dictionary<string, Tensor> OutputAndGradients(MoeBlock block, Tensor input, Tensor upstream)
    {
        block.zero_grad();
        var x = input.detach().to_type(block.RouterWeight.dtype).requires_grad_(true);
        var output = block.forward(x).HiddenStates;
        (output * upstream.to_type(output.dtype)).sum().backward();
        // An expert no token chose gets no gradient from the loop (it never runs) and a zero one from the grouped GEMM.
        var result = block.named_parameters().ToDictionary(p => p.name,
            p => p.parameter.grad?.detach().to_type(ScalarType.Float64)
                 ?? torch.zeros_like(p.parameter, ScalarType.Float64));
        result["output"] = output.detach().to_type(ScalarType.Float64);
        result["input gradient"] = x.grad!.detach().to_type(ScalarType.Float64);
        return result;
    }

    [Theory]
    [InlineData(4, 1, 9)]
    [InlineData(4, 2, 9)]
    [InlineData(5, 3, 9)]
    [InlineData(6, 2, 2)]   // 2 tokens, 6 experts: most groups are empty
    public void GroupedFloat32MatchesTheLoopInFloat64(int experts, int topK, int tokens)
    {
        var (grouped, reference) = Blocks(experts, topK, seed: 4);
        using var x = TinyModels.RandomHidden(1, tokens, 16, seed: 9);
        using var upstream = TinyModels.RandomHidden(1, tokens, 16, seed: 10);
        Assert.True(grouped.UsesGroupedExperts(x.dtype, x.device_type));

        var actual = OutputAndGradients(grouped, x, upstream);
        var expected = OutputAndGradients(reference, x, upstream);

        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, want) in expected)
        {
            var error = (actual[name] - want).abs().max().item<double>();
            Assert.True(actual[name].allclose(want, rtol: 1e-5, atol: 1e-5),
                $"{name}: grouped float32 differs from the float64 loop by up to {error:G3}");
        }
    }

    [Fact]
    public void FrozenExpertZeroGetsNoGradientThroughTheStackedWeights()
    {
        var (block, _) = Blocks(4, 2, seed: 1);
        foreach (var (name, p) in block.named_parameters()) p.requires_grad = name.Contains("moe_");   // stage 1
        using var x = TinyModels.RandomHidden(2, 5, 16, seed: 2).requires_grad_(true);

        block.forward(x).HiddenStates.sum().backward();

        foreach (var (name, p) in block.named_parameters())
            Assert.True(name.StartsWith("base_layer") ? p.grad is null : p.grad!.abs().sum().item<float>() > 0,
                $"{name}: {(p.grad is null ? "no gradient" : "a gradient")}");
    }

    /// <summary>
    /// Two backward passes without zeroing add up, as they do through the loop: the gradients the shared-stack function
    /// returns are accumulated into the experts' own parameters, not kept as views that a later pass overwrites.
    /// </summary>
    [Fact]
    public void GradientsOfTwoPassesAccumulateAsInTheLoop()
    {
        var (grouped, reference) = Blocks(4, 2, seed: 5);
        foreach (var block in new[] { grouped, reference })
            foreach (var (name, p) in block.named_parameters()) p.requires_grad = name.Contains("moe_");   // stage 1
        using var first = TinyModels.RandomHidden(1, 6, 16, seed: 6);
        using var second = TinyModels.RandomHidden(1, 6, 16, seed: 7);

        foreach (var block in new[] { grouped, reference })
            foreach (var x in new[] { first, second })
                block.forward(x.to_type(block.RouterWeight.dtype)).HiddenStates.square().sum().backward();

        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        foreach (var (name, p) in grouped.named_parameters())
        {
            Assert.Equal(expected[name] is null, p.grad is null);
            if (p.grad is null) continue;
            var error = (p.grad.to_type(ScalarType.Float64) - expected[name]!).abs().max().item<double>();
            Assert.True(error < 1e-4 * (1 + expected[name]!.abs().max().item<double>()),
                $"{name}: accumulated gradient differs from the loop's by {error:G3}");
        }
    }

    /// <summary>
    /// The mixture does not depend on the order in which the router lists a token's choices, bit for bit: for K ≤ 2
    /// because a + b is b + a in floating point (so the grouped path skips sorting them), for K = 3 because it sorts
    /// them into ascending expert order first.
    /// </summary>
    [Theory]
    [InlineData(4, 2)]
    [InlineData(5, 3)]
    public void MixIgnoresTheOrderOfEachTokensChoices(int experts, int topK)
    {
        var (block, _) = Blocks(experts, topK, seed: 5);
        using var _ = torch.no_grad();
        using var tokens = TinyModels.RandomHidden(1, 11, 16, seed: 12).reshape(11, 16);
        var routing = MoeBlock.Route(block.RouterWeight.matmul(tokens.t()).t(), topK);
        var weights = routing.Weights.to_type(tokens.dtype);
        var listed = GroupedExperts.Mix(block, tokens, routing.Experts, weights);
        var reversed = GroupedExperts.Mix(block, tokens, routing.Experts.flip(1), weights.flip(1));
        Assert.True(listed.IsExactly(reversed), "reversing each token's choices changed the mixture");
    }

    [Fact]
    public void AutoKeepsTheLoopOnTheCpuAndGroupedRefusesFloat64()
    {
        using var block = TinyModels.Block(16, 24, 4, 2, seed: 3);
        using var x = TinyModels.RandomHidden(1, 4, 16, seed: 5).reshape(4, 16);
        Assert.False(block.UsesGroupedExperts(x.dtype, x.device_type));
        Assert.Equal("loop", MoeBlock.ExpertDispatchOf(block, DeviceType.CPU));   // a block is its own model

        using var wide = TinyModels.Block(16, 24, 4, 2, seed: 3, ScalarType.Float64);
        wide.Dispatch = ExpertDispatch.Grouped;
        var error = Assert.Throws<NotSupportedException>(() => wide.forward(x.to_type(ScalarType.Float64)));
        Assert.Contains("Float64", error.Message);
    }
}
