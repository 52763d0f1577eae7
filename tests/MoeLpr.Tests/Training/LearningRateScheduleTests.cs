using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

public class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.0)]        // warmup starts at 0
    [InlineData(2, 0.5)]        // half-way through 4 warmup steps
    [InlineData(4, 1.0)]        // peak
    [InlineData(8, 0.5)]        // half-way through the 8 cosine steps: cos(π/2)
    [InlineData(12, 0.0)]       // end of the plan
    public void CosineWithWarmup_MatchesHf(int step, double fraction)
    {
        Assert.Equal(2e-4 * fraction, LearningRateSchedule.Cosine(2e-4, step, totalSteps: 12, warmupSteps: 4), 12);
    }

    [Fact]
    public void BlockOrder_IsASeededPermutationThatChangesPerEpoch()
    {
        var epoch0 = BatchPlan.BlockOrder(42, 0, 50);
        Assert.Equal(Enumerable.Range(0, 50), epoch0.Order());
        Assert.Equal(epoch0, BatchPlan.BlockOrder(42, 0, 50));
        Assert.NotEqual(epoch0, BatchPlan.BlockOrder(42, 1, 50));
        Assert.NotEqual(epoch0, BatchPlan.BlockOrder(43, 0, 50));
    }

    /// <summary>
    /// 10 blocks in micro-batches of 4: an epoch is 4 + 4 + 2 blocks, so four steps see 14 blocks (the pretraining
    /// model card's tokens seen), not 4 × 4.
    /// </summary>
    [Fact]
    public void BlocksOfFirstSteps_CountTheShortLastMicroBatchOfAnEpoch()
    {
        var plan = new BatchPlan(10, new TrainerOptions { BatchSize = 4, Seed = 7 });
        var blocks = plan.BlocksOfFirstSteps(4).ToList();

        Assert.Equal(14, blocks.Count);
        Assert.Equal(Enumerable.Range(0, 10), blocks.Take(10).Order());
        Assert.Equal(BatchPlan.BlockOrder(7, 1, 10).Take(4), blocks.Skip(10));
    }

    /// <summary>A fractional epoch count runs that share of an epoch's steps, rounded up, as HF does.</summary>
    [Theory]
    [InlineData(1.0, 3)]
    [InlineData(2.0, 6)]
    [InlineData(0.5, 2)]
    [InlineData(1.4, 5)]
    public void PlannedSteps_OfFractionalEpochsRoundUp(double epochs, int steps)
    {
        // 10 blocks in micro-batches of 4: three steps per epoch.
        Assert.Equal(steps, new BatchPlan(10, new TrainerOptions { BatchSize = 4, Epochs = epochs }).PlannedSteps);
    }
}
