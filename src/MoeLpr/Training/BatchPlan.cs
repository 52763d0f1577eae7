namespace MoeLpr.Training;

/// <summary>
/// One optimizer step of a <see cref="BatchPlan"/>: its micro-batches (block indices) and the position after it.
/// </summary>
/// <param name="Epoch">The epoch the step's micro-batches come from.</param>
/// <param name="MicroBatchesDone">Micro-batches of that epoch consumed once the step is done.</param>
public sealed record PlannedStep(int Epoch, int MicroBatchesDone, IReadOnlyList<int[]> MicroBatches);

/// <summary>
/// The order in which training visits the packed blocks, shared by the <see cref="Trainer"/> and whoever needs to know
/// what a run will see (the demo counts its tokens with it). Each epoch is a seeded permutation of the blocks (the
/// reference shuffles packed blocks too), a pure function of (seed, epoch), so a resumed run needs only those two
/// numbers and its position in the epoch. A micro-batch takes <c>BatchSize</c> blocks (the last of an epoch may take
/// fewer); an optimizer step takes <c>GradientAccumulationSteps</c> micro-batches (fewer at the end of an epoch).
/// </summary>
/// <remarks>
/// A shorter last step averages its loss over the micro-batches it has (<see cref="TrainingStep.Run"/>), so each
/// step's gradient is a mean. The reference's transformers 4.38 differs there: it divides every micro-batch's loss by
/// <c>gradient_accumulation_steps</c>, and, when an epoch has more micro-batches than that, carries the leftover
/// ones into the next epoch's first step. Runs whose epochs divide evenly, and <c>MaxSteps</c> runs within one epoch,
/// see the same steps either way.
/// </remarks>
public sealed class BatchPlan(int blockCount, TrainerOptions options)
{
    public int BlockCount { get; } = blockCount;

    public int MicroBatchesPerEpoch => (BlockCount + options.BatchSize - 1) / options.BatchSize;

    /// <summary>Optimizer steps per epoch; the last one may accumulate fewer micro-batches.</summary>
    public int StepsPerEpoch =>
        (MicroBatchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;

    /// <summary>
    /// The whole run's optimizer steps: <c>MaxSteps</c> when set, else epochs × steps per epoch rounded up, as HF
    /// rounds a fractional <c>num_train_epochs</c>.
    /// </summary>
    public int PlannedSteps => options.MaxSteps ?? (int)Math.Ceiling(options.Epochs * StepsPerEpoch);

    /// <summary>
    /// The permutation of <paramref name="blockCount"/> blocks that epoch <paramref name="epoch"/> visits.
    /// </summary>
    public static int[] BlockOrder(long seed, int epoch, int blockCount)
    {
        var order = Enumerable.Range(0, blockCount).ToArray();
        // System.Random with an explicit seed uses a fixed algorithm, stable across runs, platforms and .NET versions.
        var random = new Random(unchecked((int)(seed * 1_000_003 + epoch)));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The blocks the first <paramref name="steps"/> optimizer steps train on, in order.</summary>
    public IEnumerable<int> BlocksOfFirstSteps(int steps) =>
        Steps().Take(steps).SelectMany(step => step.MicroBatches).SelectMany(blocks => blocks);

    /// <summary>
    /// The optimizer steps from a position on (epoch, micro-batches of it already consumed), without end.
    /// </summary>
    public IEnumerable<PlannedStep> Steps(int epoch = 0, int microBatchesDone = 0)
    {
        for (; ; epoch++, microBatchesDone = 0)
        {
            var microBatches = BlockOrder(options.Seed, epoch, BlockCount).Chunk(options.BatchSize).ToArray();
            while (microBatchesDone < microBatches.Length)
            {
                int count = Math.Min(options.GradientAccumulationSteps, microBatches.Length - microBatchesDone);
                yield return new PlannedStep(epoch, microBatchesDone + count,
                    microBatches[microBatchesDone..(microBatchesDone + count)]);
                microBatchesDone += count;
            }
        }
    }
}
