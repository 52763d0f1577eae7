using MoeLpr.Data;
using MoeLpr.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using MoeLpr.Upcycling;
using TorchSharp;

namespace MoeLpr.Tests.Training;

public class TrainerMemoryTests
{
    /// <summary>Every tensor a training step creates is freed: more steps leave no more live tensors behind.</summary>
    [Fact]
    public void LiveTensorCount_DoesNotGrowWithSteps()
    {
        Assert.Equal(LiveTensorsLeftBy(steps: 2), LiveTensorsLeftBy(steps: 6));
    }

    static long LiveTensorsLeftBy(int steps)
    {
        using var temp = new TempDirectory();
        var config = Model.TinyModels.Llama;
        using var model = TinyTrainingWorkspace.NewModel(config, seed: 1);
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        Upcycler.Upcycle(model, moe, seed: 2);
        var random = new Random(3);
        var blocks = Enumerable.Range(0, 8)
            .Select(_ => Enumerable.Range(0, 16).Select(_ => random.Next(config.VocabSize)).ToArray()).ToList();
        var masks = blocks.Select((_, i) => Enumerable.Repeat(i % 2 == 0, 16).ToArray()).ToList();
        var corpus = new PackedCorpus(16, blocks, masks, [], fromCache: false);
        var trainer = new Trainer(model, new Stage1Policy(moe), corpus,
                                  new TrainerOptions
                                  {
                                      MaxSteps = steps, BatchSize = 2, GradientAccumulationSteps = 2, LoggingSteps = 1,
                                      LearningRate = 1e-3,
                                  }, temp.Path, TextWriter.Null);

        long before = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        trainer.Train();
        return DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount - before;
    }
}
