using MoeLpr.Model;
using MoeLpr.Training.Losses;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class DisposeStatisticsTests
{
    /// <summary>
    /// Grouped: stage 1 runs the experts through a custom autograd function over their shared stacks, whose
    /// backward pass hands its gradients to the caller's scope.
    /// </summary>
    [Theory]
    [InlineData(ExpertDispatch.Loop)]
    [InlineData(ExpertDispatch.Grouped)]
    public void TrainingStepInsideADisposeScopeLeavesNoLiveTensors(ExpertDispatch dispatch)
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 1);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 4, TopK = 2 }, seed: 1);
        MoeBlock.SetDispatch(model, dispatch);
        model.SetTrainable(name => name.Contains("moe_"));
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 2, 6, seed: 3);
        using var oldMask = ids.remainder(2).eq(0);

        // The grouped dispatch disposes at its next call what an earlier backward pass on this thread returned
        // outside any scope (other tests do that): one forward first, so that the counts below are this step's.
        using (torch.NewDisposeScope())
        using (torch.no_grad()) model.forward(new CausalLMInput(ids));
        DisposeScopeManager.Statistics.Reset();
        float loss;
        using (torch.NewDisposeScope())
        {
            var output = model.forward(new CausalLMInput(ids, ids, oldMask));
            var total = output.LmLoss!
                        + 0.01 * LoadBalancingLoss.Compute(output.RouterLogits, 4, 2)
                        + 0.1 * LprLoss.Compute(output.RouterLogits, oldMask, LprLossForm.Nll);
            total.backward();
            loss = total.item<float>();
        }

        var stats = DisposeScopeManager.Statistics;
        Assert.True(float.IsFinite(loss));
        Assert.True(stats.CreatedInScopeCount > 50, $"the step should have created many tensors ({stats})");
        Assert.Equal(0, stats.ThreadTotalLiveCount);
        Assert.Equal(0, stats.CreatedOutsideScopeCount);
    }
}
