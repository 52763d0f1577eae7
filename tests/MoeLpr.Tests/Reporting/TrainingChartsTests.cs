using MoeLpr.Reporting;
using static MoeLpr.Tests.Reporting.ChartJson;

namespace MoeLpr.Tests.Reporting;

public class TrainingChartsTests
{
    static readonly string[] Lines =
    [
        """{"step": 1, "loss": 5.0, "lm_loss": 4.9, "aux_loss": 2.1, "learning_rate": 0.0001}""",
        "",
        """{"step": 2, "loss": 4.0, "lm_loss": 3.9, "aux_loss": 2.05, "learning_rate": 0.0002}""",
        """{"current_steps": 3, "total_steps": 10, "loss": 3.5, "lm_loss": 3.4, "lpr_loss": 0.7, "note": "text is ignored"}""",
    ];

    [Fact]
    public void LogCollectsEveryNumericMetricAgainstItsStep()
    {
        var log = TrainingMetricsLog.Parse(Lines, "metrics.jsonl");

        Assert.Equal(["loss", "lm_loss", "aux_loss", "learning_rate", "lpr_loss"], log.MetricNames);
        Assert.Equal([(1.0, 5.0), (2.0, 4.0), (3.0, 3.5)], log.Points("loss"));
        Assert.Equal([(3.0, 0.7)], log.Points("lpr_loss"));
        Assert.Throws<KeyNotFoundException>(() => log.Points("total_steps"));
    }

    [Fact]
    public void LogErrorsNameTheFileAndLine()
    {
        var noStep = Assert.Throws<InvalidDataException>(
            () => TrainingMetricsLog.Parse(["""{"step": 1, "loss": 1}""", """{"loss": 2}"""], "run/metrics.jsonl"));
        Assert.StartsWith("run/metrics.jsonl:2:", noStep.Message);
        var badJson = Assert.Throws<InvalidDataException>(() => TrainingMetricsLog.Parse(["{oops"], "m.jsonl"));
        Assert.StartsWith("m.jsonl:1:", badJson.Message);
    }

    [Fact]
    public void LoadReadsAFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("moelpr-metrics-").FullName, "metrics.jsonl");
        File.WriteAllLines(path, Lines);
        Assert.Equal(3, TrainingMetricsLog.Load(path).Points("lm_loss").Count);
        Assert.Throws<InvalidDataException>(() => TrainingMetricsLog.Load(path + ".missing"));
    }

    [Fact]
    public void CurvesDrawOneSubplotPerDefaultLossWithTitles()
    {
        var chart = TrainingCharts.Curves(TrainingMetricsLog.Parse(Lines, "m"));

        var traces = Traces(chart);
        Assert.Equal(["loss", "lm_loss", "aux_loss", "lpr_loss"],
            traces.Select(t => t.GetProperty("name").GetString()));
        Assert.All(traces, t => Assert.Equal("scatter", t.GetProperty("type").GetString()));
        // Each metric sits on its own axes pair.
        Assert.Equal(["x", "x2", "x3", "x4"], traces.Select(t => t.GetProperty("xaxis").GetString()));
        Assert.Equal([4.9, 3.9, 3.4], Doubles(traces[1].GetProperty("y")));
        var layout = Layout(chart);
        var annotations = layout.GetProperty("annotations")
            .EnumerateArray().Select(a => a.GetProperty("text").GetString()!).ToArray();
        Assert.Equal(["loss", "lm_loss", "aux_loss", "lpr_loss"], annotations);
        Assert.Equal("step", layout.GetProperty("xaxis3").GetProperty("title").GetProperty("text").GetString());
        // What each y axis measures, so that the loss and lm_loss panels are not read as the same curve twice.
        Assert.Equal(
            ["nats per token", "nats per token", "balance loss (K when even)", "LPR loss per old-language token"],
            new[] { "yaxis", "yaxis2", "yaxis3", "yaxis4" }.Select(
                axis => layout.GetProperty(axis).GetProperty("title").GetProperty("text").GetString()));
    }

    [Fact]
    public void CurvesOfChosenMetricsAndSingleCurve()
    {
        var log = TrainingMetricsLog.Parse(Lines, "m");
        var lr = Assert.Single(Traces(TrainingCharts.Curves(log, ["learning_rate"])));
        Assert.Equal([0.0001, 0.0002], Doubles(lr.GetProperty("y")));

        var single = TrainingCharts.MetricCurve(log, "aux_loss");
        Assert.Equal([1.0, 2.0], Doubles(Assert.Single(Traces(single)).GetProperty("x")));
        Assert.Equal("balance loss (K when even)",
            Layout(single).GetProperty("yaxis").GetProperty("title").GetProperty("text").GetString());
    }
}
