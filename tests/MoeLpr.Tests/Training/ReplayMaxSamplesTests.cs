using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

/// <summary><c>train --replay-max-samples</c>: the old-language datasets (stage 2's replay) take their own document
/// count, the new-language ones keep <c>--max-samples</c>.</summary>
public class ReplayMaxSamplesTests
{
    [Fact]
    public void OldLanguageDatasetsTakeTheReplayCount()
    {
        using var ws = new TinyTrainingWorkspace();
        string stage1 = ws.Output("stage1");
        TrainingRun.Run(ws.Options(TrainingStage.Stage1, stage1, "new_text"), TextWriter.Null);

        var log = new StringWriter();
        var stage2 = ws.Options(TrainingStage.Stage2, ws.Output("stage2"), "new_text,old_text", stage1);
        TrainingRun.Run(stage2 with { MaxSamples = 12, ReplayMaxSamples = 5 }, log);
        Assert.Contains("dataset new_text (new): 12 documents", log.ToString());
        Assert.Contains("dataset old_text (old): 5 documents", log.ToString());

        log = new StringWriter();
        var stage2b = ws.Options(TrainingStage.Stage2, ws.Output("stage2b"), "new_text,old_text", stage1);
        TrainingRun.Run(stage2b with { MaxSamples = 12 }, log);
        Assert.Contains("dataset old_text (old): 12 documents", log.ToString());
    }
}
