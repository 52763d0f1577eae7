using MoeLpr.Reporting;
using MoeLpr.Training;

namespace MoeLpr.Tests.Reporting;

public class RouterTrainingChartsTests
{
    static readonly TrainingMetrics[] Metrics =
    [
        new() { Step = 10, ExpertProbability = [0.4, 0.3, 0.2, 0.1] },
        new() { Step = 20, ExpertProbability = [0.1, 0.2, 0.3, 0.4], OldLanguageExpert0Probability = [0.5, 0.6] },
        new() { Step = 30, ExpertProbability = [0.25, 0.25, 0.25, 0.25], OldLanguageExpert0Probability = [0.7, 0.9] },
    ];

    [Fact]
    public void ExpertProbabilitiesDrawOneLinePerExpert()
    {
        var traces = ChartJson.Traces(RouterTrainingCharts.ExpertProbabilities(Metrics));

        Assert.Equal(4, traces.Length);
        Assert.Equal(ExpertPalette.LabelOf(0), traces[0].GetProperty("name").GetString());
        Assert.Equal([10.0, 20, 30], ChartJson.Doubles(traces[2].GetProperty("x")));
        Assert.Equal([0.2, 0.3, 0.25], ChartJson.Doubles(traces[2].GetProperty("y")));
    }

    [Fact]
    public void OldLanguageExpert0ProbabilityDrawsOneLinePerLayerFromTheLinesThatHaveIt()
    {
        var traces = ChartJson.Traces(RouterTrainingCharts.OldLanguageExpert0Probability(Metrics));

        Assert.Equal(2, traces.Length);
        Assert.Equal([20.0, 30], ChartJson.Doubles(traces[1].GetProperty("x")));
        Assert.Equal([0.6, 0.9], ChartJson.Doubles(traces[1].GetProperty("y")));
    }

    [Fact]
    public void MetricsWithoutRoutingAreAClearError()
    {
        TrainingMetrics[] dense = [new() { Step = 1, Loss = 2 }];
        Assert.Contains("expert_prob",
            Assert.ThrowsAny<Exception>(() => RouterTrainingCharts.ExpertProbabilities(dense)).Message);
        Assert.Contains("old_lang_expert0_prob",
            Assert.ThrowsAny<Exception>(() => RouterTrainingCharts.OldLanguageExpert0Probability(dense)).Message);
    }
}
