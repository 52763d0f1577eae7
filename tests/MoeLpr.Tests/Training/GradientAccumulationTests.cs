using MoeLpr.Data;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

public class GradientAccumulationTests
{
    /// <summary>
    /// Two micro-batches of one block accumulate to the gradient of one batch of two blocks (the LM loss is a mean over
    /// equally many targets per block), so the reported unclipped gradient norm and the loss match.
    /// </summary>
    [Fact]
    public void AccumulatedMicroBatches_GiveTheGradientOfTheWholeBatch()
    {
        var whole = RunOneStep(batchSize: 2, accumulation: 1);
        var accumulated = RunOneStep(batchSize: 1, accumulation: 2);
        Assert.Equal(whole.GradNorm, accumulated.GradNorm, 1e-5 * whole.GradNorm);
        Assert.Equal(whole.LmLoss, accumulated.LmLoss, 5);
    }

    static TrainingMetrics RunOneStep(int batchSize, int accumulation)
    {
        using var temp = new TempDirectory();
        var config = Model.TinyModels.Llama;
        using var model = TinyTrainingWorkspace.NewModel(config, seed: 1);
        var random = new Random(3);
        var blocks = Enumerable.Range(0, 2)
            .Select(_ => Enumerable.Range(0, 12).Select(_ => random.Next(config.VocabSize)).ToArray()).ToList();
        var corpus = new PackedCorpus(12, blocks, blocks.Select(_ => new bool[12]).ToList(), [], fromCache: false);
        var options = new TrainerOptions
        {
            MaxSteps = 1, BatchSize = batchSize, GradientAccumulationSteps = accumulation, MaxGradNorm = 0,
            LoggingSteps = 1,
        };
        var result = new Trainer(model, new FullFineTunePolicy(), corpus, options, temp.Path, TextWriter.Null).Train();
        return result.LastMetrics!;
    }
}
