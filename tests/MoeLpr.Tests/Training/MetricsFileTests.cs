using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

public class MetricsFileTests
{
    [Fact]
    public void RoundTrips_AndTruncationDropsLaterStepsAndAHalfWrittenLine()
    {
        using var temp = new TempDirectory();
        string path = temp.File(MetricsFile.FileName);
        for (int step = 1; step <= 4; step++)
            MetricsFile.Append(path, new TrainingMetrics { Step = step, Loss = step * 0.5, LmLoss = step * 0.25,
                LossParts = new Dictionary<string, double>
                {
                    ["aux_loss"] = step,
                }, ExpertProbability = [0.5, 0.25, 0.25] });
        File.AppendAllText(path, "{\"step\":5,\"lo");  // a run killed mid-write

        Assert.Throws<InvalidDataException>(() => MetricsFile.Read(path));
        MetricsFile.TruncateAfter(path, 2);

        var lines = MetricsFile.Read(path);
        Assert.Equal([1, 2], lines.Select(m => m.Step));
        Assert.Equal(1.0, lines[1].Loss);
        Assert.Equal(2.0, lines[1].LossPart("aux_loss"));
        Assert.Null(lines[1].LossPart("lpr_loss"));
        Assert.Equal([0.5, 0.25, 0.25], lines[1].ExpertProbability!);
        Assert.DoesNotContain("lpr_loss", File.ReadAllText(path)); // absent fields are left out, not null
    }
}
