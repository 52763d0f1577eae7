using MoeLpr.Checkpoints;
using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

public class DivergenceTests
{
    /// <summary>An absurd learning rate blows the weights up after step 1; step 2's loss is not finite.</summary>
    [Fact]
    public void NonFiniteLoss_StopsWithStepAndTerm_AndKeepsThePreviousCheckpoint()
    {
        using var ws = new TinyTrainingWorkspace();
        var options = ws.Options(TrainingStage.Stage1, ws.Output("run"), "new_text") with
        {
            Optimization = TinyTrainingWorkspace.FastOptimization with
            {
                LearningRate = 1e30, SaveSteps = 1, MaxGradNorm = 0,
            },
        };
        string checkpoint1 = TrainingCheckpoint.PathFor(options.OutputDir, 1);

        var error = Assert.Throws<TrainingDivergedException>(() => TrainingRun.Run(options, TextWriter.Null));

        Assert.Matches(@"^step 2: (lm_loss|aux_loss) is (NaN|-?∞)", error.Message);
        Assert.Contains(checkpoint1, error.Message);
        Assert.False(Directory.Exists(TrainingCheckpoint.PathFor(options.OutputDir, 2)));
        Assert.False(File.Exists(Path.Combine(options.OutputDir, PeftAdapterFiles.WeightsFileName)));
        var state = TrainerState.Load(Path.Combine(checkpoint1, TrainerState.FileName));
        Assert.Equal(1, state.GlobalStep);
        var (model, config) = ModelWithAdapter.Load(ws.ModelDir, checkpoint1, null);
        using (model)
        {
            Assert.Equal(3, config!.NumExperts);
            foreach (var block in model.MoeBlocks)
                Assert.True(block.RouterWeight.isfinite().all().item<bool>());
        }
    }
}
