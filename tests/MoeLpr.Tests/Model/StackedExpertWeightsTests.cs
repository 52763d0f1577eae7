using MoeLpr.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

/// <summary>
/// A block's expert weights live in one stack per projection and each expert's weight is a view of its slice: what
/// the parameters see, the stack sees, through moves and whichever path reads them.
/// </summary>
public class StackedExpertWeightsTests
{
    static Parameter Weight(MoeBlock block, int expert, string projection) =>
        ((Linear)block.Expert(expert).Projection(projection)).weight!;

    static void AssertStackHoldsTheParameters(MoeBlock block)
    {
        var stacked = block.StackedWeights;
        Assert.NotNull(stacked);
        foreach (var name in LlamaMLP.ProjectionNames)
            for (int e = 0; e < block.NumExperts; e++)
                Assert.True(stacked[name][e].allclose(Weight(block, e, name), rtol: 0, atol: 0),
                    $"{name} of expert {e}");
    }

    [Fact]
    public void InPlaceUpdatesOfAnExpertLandInTheStack()
    {
        using var block = TinyModels.Block(16, 24, 4, 2, seed: 1);
        AssertStackHoldsTheParameters(block);

        using (torch.no_grad()) Weight(block, 2, "up_proj").add_(0.5);   // what an optimizer step does

        AssertStackHoldsTheParameters(block);
        var up = block.StackedWeights!["up_proj"];
        Assert.False(up[2].allclose(up[1], rtol: 0, atol: 0));
    }

    [Fact]
    public void ConstructionKeepsValuesAndRequiresGrad()
    {
        var experts = Enumerable.Range(0, 3).Select(_ => new LlamaMLP(8, 12)).ToList();
        TinyModels.Randomize(experts[1], seed: 5);
        var before = experts.Select(e => e.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone())).ToList();
        experts[0].parameters().ToList().ForEach(p => p.requires_grad = false);

        using var block = new MoeBlock(experts[0], experts.Skip(1).ToList(), topK: 2);

        for (int e = 0; e < 3; e++)
            foreach (var name in LlamaMLP.ProjectionNames)
            {
                Assert.True(Weight(block, e, name).allclose(before[e][$"{name}.weight"], rtol: 0, atol: 0),
                    $"{name} of expert {e}");
                Assert.Equal(e > 0, Weight(block, e, name).requires_grad);
            }
    }

    [Fact]
    public void MovingTheBlockStacksTheNewParametersAgain()
    {
        using var block = TinyModels.Block(16, 24, 3, 2, seed: 2);

        block.to(ScalarType.Float64);
        AssertStackHoldsTheParameters(block);
        Assert.Equal(ScalarType.Float64, block.StackedWeights!["gate_proj"].dtype);
        using (torch.no_grad()) Weight(block, 1, "down_proj").mul_(2.0);
        AssertStackHoldsTheParameters(block);
    }

    [Fact]
    public void MovingAWholeModelStacksEveryBlockAgain()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 4);
        MoeLpr.Upcycling.Upcycler.Upcycle(model, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 4);

        model.to(ScalarType.Float64);

        var blocks = model.modules().OfType<MoeBlock>().ToList();
        Assert.Equal(TinyModels.Llama.NumHiddenLayers, blocks.Count);
        foreach (var block in blocks) AssertStackHoldsTheParameters(block);
    }

    [Fact]
    public void ReplacingAWeightEndsTheSharingAndTheGroupedPathStillReadsTheParameters()
    {
        using var block = TinyModels.Block(16, 24, 4, 2, seed: 3);
        using var x = TinyModels.RandomHidden(1, 7, 16, seed: 4);
        var linear = (Linear)block.Expert(1).Projection("gate_proj");
        linear.weight = new Parameter(linear.weight!.detach().clone() * 1.5);
        Assert.Null(block.StackedWeights);

        using var _ = torch.no_grad();
        block.Dispatch = ExpertDispatch.Loop;
        using var loop = block.forward(x).HiddenStates;
        block.Dispatch = ExpertDispatch.Grouped;
        using var grouped = block.forward(x).HiddenStates;
        Assert.True(grouped.allclose(loop, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void AdaptersOnTheExpertsLeaveNothingStacked()
    {
        using var block = TinyModels.Block(16, 24, 3, 2, seed: 6);
        var expert = block.Expert(2);
        using var generator = new Generator(9);
        expert.ReplaceProjection("up_proj",
            new LoraLinear((Linear)expert.Projection("up_proj"), rank: 2, alpha: 4, generator));
        Assert.Null(block.StackedWeights);
    }

    /// <summary>
    /// Frozen experts (stage 2) are read from the stack in place; after a stage-1 step changed them in place the
    /// grouped output still equals the loop's, which reads the parameters themselves.
    /// </summary>
    [Fact]
    public void FrozenExpertsReadInPlaceSeeTheLatestOptimizerStep()
    {
        using var block = TinyModels.Block(16, 24, 4, 2, seed: 7);
        using var x = TinyModels.RandomHidden(2, 5, 16, seed: 8);
        foreach (var (name, p) in block.named_parameters()) p.requires_grad = name.Contains("moe_experts");
        using var optimizer = torch.optim.SGD(block.parameters().Where(p => p.requires_grad), 0.5);
        block.Dispatch = ExpertDispatch.Grouped;
        block.forward(x).HiddenStates.square().sum().backward();
        optimizer.step();

        foreach (var (_, p) in block.named_parameters()) p.requires_grad = false;   // stage 2: experts frozen
        block.RouterWeight.requires_grad = true;
        using var grouped = block.forward(x).HiddenStates;
        block.Dispatch = ExpertDispatch.Loop;
        using var loop = block.forward(x).HiddenStates;

        Assert.True(grouped.allclose(loop, rtol: 1e-5, atol: 1e-6),
            $"grouped differs from the loop by {(grouped - loop).abs().max().item<float>():G3}");
        AssertStackHoldsTheParameters(block);
    }
}
